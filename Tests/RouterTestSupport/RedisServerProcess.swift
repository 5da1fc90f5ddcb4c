import Foundation
import RouterProtocol

/// A redis-server of the test's own on a Unix socket in a fresh folder (never the system one):
/// started by `redis-server --port 0 --unixsocket …` and up once it answers PING. Starting fails
/// with what the server wrote when it cannot start; `stop()` ends it and removes the folder.
public final class RedisServerProcess {
    public static let executable = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    public let directory: String
    public let socket: String
    public private(set) var process: ChildProcess
    private let arguments: [String]
    private var stopped = false

    /// Starts a server with `arguments` after the socket and folder settings (e.g.
    /// `["--requirepass", "secret"]`, `["--appendonly", "yes"]`).
    public init(_ arguments: [String] = []) throws {
        guard let executable = Self.executable else {
            throw LaunchError("redis-server is not installed (scripts/install-packages.sh test installs it)")
        }
        directory = makeTemporaryDirectory("redis-")
        socket = directory + "/redis.sock"
        self.arguments = ["--port", "0", "--unixsocket", socket, "--unixsocketperm", "700", "--dir", directory,
                          "--save", "", "--appendonly", "no", "--daemonize", "no"] + arguments
        process = try ChildProcess(executable, self.arguments, directory: directory)
        try waitUntilUp()
    }

    deinit {
        if !stopped { stop() }
    }

    private func waitUntilUp() throws {
        let socket = self.socket
        try process.waitUntil("redis-server should answer on \(socket)") { Self.answers(socket) }
    }

    /// Whether something on `path` answers a PING (with PONG, or a NOAUTH refusal).
    static func answers(_ path: String) -> Bool {
        let fd = UnixSocketAddress.connect(path)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let ping = Array("*1\r\n$4\r\nPING\r\n".utf8)
        guard write(fd, ping, ping.count) == ping.count else { return false }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 1000) > 0 else { return false }
        var reply = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &reply, reply.count)
        return n > 0
    }

    /// Stops the process with SIGSTOP: it keeps its connections but answers nothing.
    public func pause() { process.signal(SIGSTOP) }

    /// Lets a paused server go on (SIGCONT).
    public func resume() { process.signal(SIGCONT) }

    /// Kills the server (SIGKILL) without removing its folder, for a restart.
    public func kill() {
        process.signal(SIGCONT)
        process.signal(SIGKILL)
        process.wait()
    }

    /// Starts the server again on the same socket and folder (its data files, if it keeps any).
    public func restart() throws {
        if process.poll() == nil { kill() }
        unlink(socket)
        process = try ChildProcess(Self.executable!, arguments, directory: directory)
        try waitUntilUp()
    }

    /// Ends the server and removes its folder.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        process.signal(SIGCONT)
        process.signal(SIGKILL)
        process.wait(timeout: 10)
        try? FileManager.default.removeItem(atPath: directory)
    }
}
