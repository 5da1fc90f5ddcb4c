import NIOCore

/// A Lua script that Redis runs atomically: loaded once (`SCRIPT LOAD`) and then run by its
/// SHA1 (`EVALSHA`), loaded again when Redis has forgotten it (`NOSCRIPT`, after a restart or
/// `SCRIPT FLUSH`).
public struct RedisScript: Hashable, Sendable {
    /// The script's Lua source.
    public var source: String

    /// A script from its source.
    public init(_ source: String) {
        self.source = source
    }
}

/// A Redis client that keeps one pipelined connection and makes it again when it breaks:
/// a call that finds the connection gone connects anew; after a failed attempt, calls fail at
/// once (naming Redis) until the backoff has passed, so that callers answer fast while Redis is
/// away, and the backoff grows from 50 ms to 2 s while it stays away.
///
/// Hand-written: no Swift Redis client is among the packages reachable here.
public actor RedisClient {
    public nonisolated let configuration: RedisConfiguration
    private let group: any EventLoopGroup
    private var connection: RedisConnection?
    private var connecting: Task<RedisConnection, any Error>?
    private var retryAt: ContinuousClock.Instant?
    private var backoff: Duration = .milliseconds(50)
    private var lastFailure: RedisError?
    private var loaded: [String: String] = [:]

    static let firstBackoff: Duration = .milliseconds(50)
    static let longestBackoff: Duration = .seconds(2)

    /// How long a command may wait for its reply before the connection is given up (nil:
    /// forever). A Redis that stopped answering (paused, overloaded, a network gone quiet)
    /// then fails calls in that time rather than holding them.
    public nonisolated let replyTimeout: Duration?

    /// A client for `configuration`, connecting on first use on `group`'s event loops.
    public init(configuration: RedisConfiguration, group: any EventLoopGroup, replyTimeout: Duration? = nil) {
        self.configuration = configuration
        self.group = group
        self.replyTimeout = replyTimeout
    }

    /// The reply of `future`, or a failure once `timeout` has passed without one, in which
    /// case the connection is closed (its later replies would answer the wrong commands).
    /// The clock stops when the reply is read on the connection's loop, not when this task
    /// gets to it: a busy process does not count as a Redis that stopped answering.
    private func awaitReply<T: Sendable>(_ future: EventLoopFuture<T>, on connection: RedisConnection,
                                         timeout: Duration?) async throws(RedisError) -> T {
        guard let timeout = timeout ?? replyTimeout else {
            do { return try await future.get() } catch { throw error as? RedisError ?? .connection("\(error)") }
        }
        let expiry = future.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)) {
            connection.close()
        }
        future.whenComplete { _ in expiry.cancel() }
        do {
            return try await future.get()
        } catch {
            drop(connection)
            throw (error as? RedisError).map { e -> RedisError in
                e.isConnectionFailure ? .connection("\(configuration.description) did not answer within \(timeout) or the connection broke (\(e))") : e
            } ?? .connection("\(error)")
        }
    }

    /// The open connection, made now if there is none (or failing at once during a backoff).
    public func connected() async throws(RedisError) -> RedisConnection {
        if let connection, connection.isOpen { return connection }
        connection = nil
        if let task = connecting {
            do { return try await task.value } catch { throw error as? RedisError ?? .connection("\(error)") }
        }
        if let retryAt, ContinuousClock.now < retryAt {
            throw .connection("Redis at \(configuration.description) is unreachable (\(lastFailure?.description ?? "")); trying again shortly")
        }
        let configuration = self.configuration
        let group = self.group
        let task = Task { () async throws -> RedisConnection in
            try await RedisConnection.connect(configuration, on: group)
        }
        connecting = task
        defer { connecting = nil }
        do {
            let fresh = try await task.value
            connection = fresh
            retryAt = nil
            backoff = Self.firstBackoff
            return fresh
        } catch {
            let failure = error as? RedisError ?? .connection("\(error)")
            lastFailure = failure
            retryAt = .now + backoff
            backoff = min(backoff * 2, Self.longestBackoff)
            throw failure
        }
    }

    /// Runs one command; an error reply throws `RedisError.reply`. A broken connection fails
    /// the call and is made again by the next one.
    /// `timeout` overrides `replyTimeout` (a blocking read waits longer than it blocks).
    @discardableResult
    public func command(_ words: [String], timeout: Duration? = nil) async throws(RedisError) -> RESPValue {
        let connection = try await connected()
        let reply = try await awaitReply(connection.send(words), on: connection, timeout: timeout)
        if case .error(let message) = reply { throw .reply(message) }
        return reply
    }

    /// Runs several commands in one round trip; their replies (error replies included) in order.
    public func pipeline(_ commands: [[String]]) async throws(RedisError) -> [RESPValue] {
        let connection = try await connected()
        return try await awaitReply(connection.pipeline(commands), on: connection, timeout: nil)
    }

    /// Runs `script` with `keys` and `arguments` by its SHA1, loading it first when Redis does
    /// not have it.
    @discardableResult
    public func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) async throws(RedisError) -> RESPValue {
        for attempt in 0..<2 {
            let sha = try await load(script, again: attempt > 0)
            do {
                return try await command(["EVALSHA", sha, String(keys.count)] + keys + arguments)
            } catch {
                guard attempt == 0, error.replyMessage?.hasPrefix("NOSCRIPT") == true else { throw error }
            }
        }
        throw .reply("NOSCRIPT the script could not be loaded")
    }

    /// Sends `script` by its SHA1 (loading it first when this client has not) without waiting
    /// for its reply, which `reply(to:of:)` waits for. Redis answers a connection's commands in
    /// order, so several calls may be under way at once; they run in the order they were sent.
    public func submit(_ script: RedisScript, keys: [String], arguments: [String]) async throws(RedisError) -> RedisPendingReply {
        let sha = try await load(script, again: false)
        let connection = try await connected()
        var words = ["EVALSHA", sha, String(keys.count)]
        words.reserveCapacity(3 + keys.count + arguments.count)
        words += keys
        words += arguments
        return RedisPendingReply(future: connection.send(words), connection: connection)
    }

    /// `submit(_:keys:arguments:)` for arguments already written as RESP (`RedisScriptArguments`).
    public func submit(_ script: RedisScript, arguments: RedisScriptArguments) async throws(RedisError) -> RedisPendingReply {
        let sha = try await load(script, again: false)
        let connection = try await connected()
        return RedisPendingReply(future: connection.send(script: sha, arguments: arguments), connection: connection)
    }

    /// `submit(_:arguments:)` with the arguments written by `encode` on `loop`, so that a caller
    /// whose own thread is the busy one hands the writing to another. Calls submitted to one
    /// loop reach Redis in the order they were submitted.
    public func submit(_ script: RedisScript, on loop: any EventLoop,
                       encode: @escaping @Sendable () -> RedisScriptArguments) async throws(RedisError) -> RedisPendingReply {
        let sha = try await load(script, again: false)
        let connection = try await connected()
        return RedisPendingReply(future: connection.send(script: sha, on: loop, encode: encode), connection: connection)
    }

    /// The reply to a call sent by `submit`; an error reply throws `RedisError.reply`, and a
    /// `NOSCRIPT` one (Redis restarted, or its scripts flushed) makes the next call load
    /// `script` again.
    public func reply(to pending: RedisPendingReply, of script: RedisScript) async throws(RedisError) -> RESPValue {
        let reply = try await awaitReply(pending.future, on: pending.connection, timeout: nil)
        if case .error(let message) = reply {
            if message.hasPrefix("NOSCRIPT") { loaded[script.source] = nil }
            throw .reply(message)
        }
        return reply
    }

    private func load(_ script: RedisScript, again: Bool) async throws(RedisError) -> String {
        if !again, let sha = loaded[script.source] { return sha }
        guard let sha = try await command(["SCRIPT", "LOAD", script.source]).string else {
            throw .malformed(RESPError("SCRIPT LOAD gave no SHA1"))
        }
        loaded[script.source] = sha
        return sha
    }

    private func drop(_ broken: RedisConnection) {
        broken.close()
        if connection === broken { connection = nil }
    }

    /// Closes the connection.
    public func close() {
        connection?.close()
        connection = nil
    }
}

/// A command sent by `RedisClient.submit` whose reply has not been read yet.
public struct RedisPendingReply: Sendable {
    let future: EventLoopFuture<RESPValue>
    let connection: RedisConnection
}
