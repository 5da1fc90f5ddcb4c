import DomainRouter
import Logging
import NIOPosix
import RouterClient
import RouterProtocol
import ServiceLifecycle
import Synchronization

/// Keeps a `RouteTable` replica in step with a routerd over its Unix socket, the way a
/// Kubernetes informer follows its API server: list every route, load them at the revision
/// the connection began at, then watch from the next revision and apply each change as it
/// comes (changes made during the list replay over it, state by state, so the replica
/// converges). When routerd goes away the follower reconnects with backoff (50 ms doubling to
/// 2 s) and resumes the watch where it stopped; `compacted` — another instance after a
/// restart, a history that no longer reaches back, a store reset — means list and load again.
///
/// The socket client blocks, so the loop runs on a thread of its own; it checks for shutdown
/// every 250 ms while it waits.
public final class RouteFollower: Service, Sendable {
    /// Where the follower stands, for logs and tests.
    public struct Status: Sendable, Hashable {
        /// A watch is live (it has seen `sync`).
        public var synced = false
        /// The routerd instance (or store id) whose revisions the replica holds.
        public var instance: String?
        /// Times the replica was loaded from a full list.
        public var loads = 0
        /// Times the follower connected.
        public var connections = 0
    }

    private let socket: String
    private let table: RouteTable
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let state = Mutex(Status())

    /// A follower of the routerd at `socket` that keeps `table`.
    public init(socket: String, table: RouteTable, logger: Logger) {
        self.socket = socket
        self.table = table
        self.logger = logger
    }

    /// Where the follower stands now.
    public var status: Status { state.withLock { $0 } }

    /// Returns once the replica has been loaded from routerd (or the task is cancelled): a
    /// gateway opens its listeners then, so that it never answers from an empty table.
    public func loaded() async {
        while state.withLock({ $0.loads }) == 0 && !Task.isCancelled && !stopped {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Follows until graceful shutdown (or cancellation).
    public func run() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                _ = try? await pool.runIfActive { self.follow() }
            } onCancel: {
                self.stopping.store(true, ordering: .relaxed)
            }
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
        }
        try? await pool.shutdownGracefully()
    }

    private var stopped: Bool { stopping.load(ordering: .relaxed) }

    private func follow() {
        var delay: Duration = .milliseconds(50)
        var lastProblem = ""
        while !stopped {
            var problem = ""
            do throws(ClientError) {
                try followOnce()
            } catch where error.code == "unreachable" {
                problem = "routerd does not answer there (is it running? --follow names its socket)"
            } catch {
                problem = "\(error)"
            }
            if stopped { return }
            // A connection that got as far as a live watch starts the backoff again.
            let wasLive = state.withLock { s in
                defer { s.synced = false }
                return s.synced
            }
            if wasLive { delay = .milliseconds(50) }
            if !problem.isEmpty && problem != lastProblem {
                logger.warning("routerd at \(socket): \(problem); trying again", metadata: ["socket": "\(socket)"])
            }
            lastProblem = problem
            sleep(delay)
            delay = min(delay * 2, .seconds(2))
        }
    }

    /// One connection: list unless the replica already holds this instance's revisions, then
    /// watch until the connection ends. Returns to reconnect; throws what went wrong.
    private func followOnce() throws(ClientError) {
        let client = try RouterClient(path: socket, timeout: .seconds(30))
        client.isInterrupted = { [self] in self.stopping.load(ordering: .relaxed) }
        defer { client.close() }
        let greeting = try client.greeting
        state.withLock { $0.connections += 1 }
        if !greeting.isAdmin {
            logger.warning("routerd at \(socket) does not take this user for an admin: other owners' routes come without targets (run routergw as routerd's user, root, or a member of its --admin-group)")
        }
        if state.withLock({ $0.instance }) != greeting.instance {
            try load(client, at: greeting)
        }
        let id = try client.send("watch", [("from_revision", .number(table.revision &+ 1)),
                                           ("instance", .string(greeting.instance))])
        client.timeout = nil
        var batch: [RouteEvent] = []
        while true {
            let line = try client.read()
            guard line.id == .number(String(id)) else { continue }
            switch line {
            case .event(_, let object):
                let event: RouteEvent?
                do { event = try RouteEvent(wire: object) } catch { throw .malformedReply("\(error)") }
                if let event {
                    batch.append(event)
                } else if !state.withLock({ $0.synced }) {
                    state.withLock { $0.synced = true }
                    logger.notice("following routerd", metadata: [
                        "socket": "\(socket)", "instance": "\(greeting.instance)", "revision": "\(table.revision)",
                        "routes": "\(table.stats().total)",
                    ])
                }
                if !client.hasBufferedLine || batch.count >= 1024 {
                    if case .gap(let at, let next) = table.replicate(batch) {
                        state.withLock { $0.instance = nil }
                        throw .malformedReply("a change is missing between revisions \(at) and \(next): listing again")
                    }
                    batch.removeAll(keepingCapacity: true)
                }
            case .failure(_, let error) where error.code == .compacted:
                logger.notice("routerd's history does not reach back to this replica's revision: listing again",
                              metadata: ["socket": "\(socket)", "reason": "\(error.message)"])
                state.withLock { $0.instance = nil }
                return
            case .failure(_, let error):
                throw .daemon(error)
            case .success, .route:
                return
            }
        }
    }

    /// Lists every route, a page at a time, and loads them at the greeting's revision.
    private func load(_ client: RouterClient, at greeting: Greeting) throws(ClientError) {
        var routes: [Route] = []
        var after: String?
        repeat {
            var arguments: [(String, JSONValue)] = [("limit", .number(10_000))]
            if let after { arguments.append(("after", .string(after))) }
            var failure: FollowError?
            let page = try client.call("list", arguments) { line in
                guard case .route(_, let object) = line else { return true }
                do throws(FollowError) { routes.append(try Route(wire: object)) } catch { failure = error; return false }
                return true
            }
            if let failure { throw .malformedReply("\(failure)") }
            after = page.result["next"]?.stringValue
        } while after != nil && !stopped
        table.load(routes, revision: greeting.revision,
                   reason: .reset("the gateway's replica was loaded anew from routerd"))
        state.withLock {
            $0.instance = greeting.instance
            $0.loads += 1
        }
        logger.notice("loaded the route table", metadata: [
            "socket": "\(socket)", "routes": "\(routes.count)", "revision": "\(greeting.revision)",
        ])
    }

    private func sleep(_ duration: Duration) {
        var left = duration
        while left > .zero && !stopped {
            let step = min(left, .milliseconds(50))
            let ns = step.components.attoseconds / 1_000_000_000 + step.components.seconds * 1_000_000_000
            var request = timespec(tv_sec: 0, tv_nsec: Int(ns))
            nanosleep(&request, nil)
            left -= step
        }
    }
}
