import Foundation
import RouterProtocol

/// The built routerd binary, started on a socket in a fresh folder, for tests and benchmarks
/// that need the daemon as its users run it. It is up once it has greeted a connection; if it
/// does not within 10 s (or exits), starting fails with its stderr. `stop()` sends SIGTERM,
/// waits up to 10 s for it to exit (killing it and failing otherwise), and removes the folder.
public final class RouterdProcess {
    public let directory: String
    public let socket: String
    public let process: ChildProcess
    private var stopped = false

    /// Starts `routerd --socket DIR/r.sock` with `arguments` after it; with `socket`, on that
    /// path instead (a routerd started again where another one was).
    public init(_ arguments: [String], environment: [String: String] = [:], socket path: String? = nil) throws {
        directory = makeTemporaryDirectory("rd-")
        socket = path ?? directory + "/r.sock"
        do {
            process = try ChildProcess(productsDirectory + "/routerd", ["--socket", socket] + arguments,
                                       environment: environment, directory: directory)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        let socket = self.socket
        do {
            try process.waitUntil("routerd should answer on \(socket)") { Self.greets(socket) }
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// The HTTP API's port, read from routerd's `HTTP API listening on` line (at notice):
    /// start it with `--http 0` (or `HOST:0`) and the kernel picks a free port, with no race
    /// between finding a port free and binding it.
    public func httpPort() throws -> Int {
        var port: Int?
        try process.waitUntil("routerd should log where its HTTP API listens") {
            guard let line = process.stderr.split(separator: "\n").first(where: { $0.contains("HTTP API listening on ") }),
                  let url = line.split(separator: " ").first(where: { $0.hasPrefix("http://") || $0.hasPrefix("https://") }),
                  let colon = url.lastIndex(of: ":") else { return false }
            port = Int(url[url.index(after: colon)...])
            return port != nil
        }
        return port ?? 0
    }

    /// The DNS port, read from routerd's `DNS listening on HOST:PORT` line: start it with
    /// `--dns 127.0.0.1:0` and the kernel picks the port.
    public func dnsPort() throws -> Int {
        var port: Int?
        try process.waitUntil("routerd should log where it answers DNS") {
            guard let line = process.stderr.split(separator: "\n").first(where: { $0.contains("DNS listening on ") }),
                  let address = line.split(separator: " ").last(where: { $0.contains(":") && $0.first?.isNumber == true || $0.hasPrefix("[") }),
                  let colon = address.lastIndex(of: ":") else { return false }
            port = Int(address[address.index(after: colon)...])
            return port != nil
        }
        return port ?? 0
    }

    deinit {
        if !stopped { _ = try? stop() }
    }

    /// Whether something on `path` accepts a connection and sends a line.
    static func greets(_ path: String) -> Bool {
        let fd = UnixSocketAddress.connect(path)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 1000) > 0 else { return false }
        var byte: UInt8 = 0
        return read(fd, &byte, 1) == 1
    }

    /// SIGTERM, then up to 10 s for routerd to exit; returns what it left. A daemon that does
    /// not exit is killed and reported as an error.
    @discardableResult
    public func stop() throws -> Finished {
        guard !stopped else { return process.wait(timeout: 0) }
        stopped = true
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try process.terminate("routerd")
    }
}
