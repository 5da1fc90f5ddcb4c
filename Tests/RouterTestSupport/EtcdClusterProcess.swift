import Foundation
import RouterProtocol

/// An etcd cluster of the test's own (never a system one): `count` members on loopback ports
/// in a fresh folder, started with `--initial-cluster-state new` and up once every member
/// answers `etcdctl endpoint health`. Members can be killed, paused, resumed and restarted
/// (same data, `existing`); `stop()` ends them all and removes the folder.
public final class EtcdClusterProcess {
    public static let executable = ["/usr/bin/etcd", "/usr/local/bin/etcd"].first { FileManager.default.isExecutableFile(atPath: $0) }
    public static let etcdctlPath = ["/usr/bin/etcdctl", "/usr/local/bin/etcdctl"].first { FileManager.default.isExecutableFile(atPath: $0) }

    public struct Member {
        public var name: String
        public var clientPort: Int
        public var peerPort: Int
        public var process: ChildProcess?
        public var client: String { "127.0.0.1:\(clientPort)" }
    }

    public let directory: String
    public private(set) var members: [Member]
    /// Extra flags for every member (`--auth-token`, TLS files).
    let extra: [String]
    /// `https` when the members serve TLS.
    let scheme: String
    /// Flags every etcdctl call gets (TLS files, a user).
    public var etcdctlFlags: [String]
    private var stopped = false

    /// Starts `count` members with `extra` flags (`scheme` https when those serve TLS), checked
    /// with etcdctl given `etcdctlFlags`.
    public init(members count: Int = 1, extra: [String] = [], scheme: String = "http", etcdctlFlags: [String] = []) throws {
        self.etcdctlFlags = etcdctlFlags
        guard Self.executable != nil, Self.etcdctlPath != nil else {
            throw LaunchError("etcd is not installed (scripts/install-packages.sh test installs etcd-server and etcd-client)")
        }
        directory = makeTemporaryDirectory("etcd-")
        self.extra = extra
        self.scheme = scheme
        members = []
        for attempt in 0..<3 {
            // Each port drawn once: `freeTCPPort` may draw a port twice, and two of the
            // cluster's listeners cannot share one.
            var ports: [Int] = []
            while ports.count < 2 * count {
                let port = freeTCPPort()
                if !ports.contains(port) { ports.append(port) }
            }
            members = (0..<count).map { Member(name: "m\($0)", clientPort: ports[2 * $0], peerPort: ports[2 * $0 + 1]) }
            let cluster = members.map { "\($0.name)=http://127.0.0.1:\($0.peerPort)" }.joined(separator: ",")
            for i in members.indices {
                try? FileManager.default.removeItem(atPath: directory + "/" + members[i].name)
                members[i].process = try ChildProcess(Self.executable!, arguments(i, cluster: cluster, state: "new"), directory: directory)
            }
            do {
                try waitUntilHealthy()
                return
            } catch {
                // A port taken between choosing it and etcd binding it: start again on others.
                for i in members.indices { members[i].process?.signal(SIGKILL); _ = members[i].process?.wait(timeout: 10) }
                if attempt == 2 { throw error }
            }
        }
    }

    deinit {
        if !stopped { stop() }
    }

    func arguments(_ i: Int, cluster: String, state: String) -> [String] {
        let m = members[i]
        return ["--name", m.name, "--data-dir", directory + "/" + m.name,
                "--listen-client-urls", "\(scheme)://127.0.0.1:\(m.clientPort)",
                "--advertise-client-urls", "\(scheme)://127.0.0.1:\(m.clientPort)",
                "--listen-peer-urls", "http://127.0.0.1:\(m.peerPort)",
                "--initial-advertise-peer-urls", "http://127.0.0.1:\(m.peerPort)",
                "--initial-cluster", cluster, "--initial-cluster-state", state,
                "--initial-cluster-token", "domain-router-test", "--log-level", "warn"] + extra
    }

    /// `etcd://A,B,C` (or `etcds://`) for routerd's --store.
    public var url: String { (scheme == "https" ? "etcds://" : "etcd://") + members.map(\.client).joined(separator: ",") }

    /// The members' client URLs for etcdctl.
    public var endpoints: String { members.map { "\(scheme)://\($0.client)" }.joined(separator: ",") }

    /// Waits until every running member answers `endpoint health` (polled through a running
    /// member's `ChildProcess.waitUntil`); throws when a member exits first.
    public func waitUntilHealthy(timeout: Double = 30) throws {
        let running = members.filter { $0.process?.poll() == nil }
        guard let watched = running.first?.process else { throw LaunchError("no etcd member is running") }
        let endpoints = running.map { "\(scheme)://\($0.client)" }.joined(separator: ",")
        var exited: String?
        try watched.waitUntil("etcd should become healthy", timeout: timeout) {
            if let gone = members.first(where: { $0.process?.poll() != nil }) {
                exited = "etcd \(gone.name) exited: \(gone.process?.stderr.suffix(2000) ?? "")"
                return true
            }
            return etcdctl(["--endpoints", endpoints, "endpoint", "health"], timeout: 10).status == 0
        }
        if let exited { throw LaunchError(exited) }
    }

    /// Runs etcdctl (API v3) with `arguments`; the endpoints are every member unless given.
    @discardableResult
    public func etcdctl(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 30) -> Finished {
        var words = etcdctlFlags + arguments
        if !words.contains("--endpoints") { words = ["--endpoints", endpoints] + words }
        guard let child = try? ChildProcess(Self.etcdctlPath!, words, environment: ["ETCDCTL_API": "3"].merging(environment) { $1 },
                                            directory: directory) else {
            return Finished(status: -1, stdout: "", stderr: "etcdctl could not start")
        }
        return child.wait(timeout: timeout)
    }

    /// The index of the member that leads now, as the members say (nil: none does).
    public func leader() -> Int? {
        for (i, m) in members.enumerated() where m.process?.poll() == nil {
            let status = etcdctl(["--endpoints", "\(scheme)://\(m.client)", "endpoint", "status", "-w", "json"], timeout: 10)
            guard status.status == 0, let json = try? JSONParser.parse(status.stdout), let first = json[0]?["Status"] else { continue }
            if case .number(let l)? = first["leader"], case .number(let id)? = first["header"]?["member_id"], l == id { return i }
        }
        return nil
    }

    /// Kills member `i` (SIGKILL), keeping its data for a restart.
    public func kill(_ i: Int) {
        members[i].process?.signal(SIGCONT)
        members[i].process?.signal(SIGKILL)
        _ = members[i].process?.wait(timeout: 10)
    }

    /// Stops member `i` with SIGSTOP: it keeps its connections and answers nothing.
    public func pause(_ i: Int) { members[i].process?.signal(SIGSTOP) }

    /// Lets a paused member go on.
    public func resume(_ i: Int) { members[i].process?.signal(SIGCONT) }

    /// Starts member `i` again on its data, ports and cluster.
    public func restart(_ i: Int) throws {
        if members[i].process?.poll() == nil { kill(i) }
        let cluster = members.map { "\($0.name)=http://127.0.0.1:\($0.peerPort)" }.joined(separator: ",")
        members[i].process = try ChildProcess(Self.executable!, arguments(i, cluster: cluster, state: "existing"), directory: directory)
    }

    /// Ends every member and removes the folder.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        for m in members {
            m.process?.signal(SIGCONT)
            m.process?.signal(SIGKILL)
            _ = m.process?.wait(timeout: 10)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
