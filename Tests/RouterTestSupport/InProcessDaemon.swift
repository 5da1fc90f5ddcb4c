import DomainRouter
import Foundation
import Logging
import RouterEngine
import RouterProtocol
import RouterServer

/// A real daemon in this process, on a socket in a fresh temporary folder, stopped and cleaned
/// up by `stop()`: for tests that look inside the server, and for benchmarks.
public final class InProcessDaemon: Sendable {
    public let directory: String
    public let server: RouterServer
    public var socketPath: String { server.configuration.socketPath }

    private init(directory: String, server: RouterServer) {
        self.directory = directory
        self.server = server
    }

    /// A daemon for names under example.com, logging to `logger` (by default, only critical
    /// lines); `configure` changes its configuration first.
    public static func start(logger: Logger? = nil, _ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> InProcessDaemon {
        let directory = makeTemporaryDirectory("rd-")
        var configuration = ServerConfiguration(socketPath: directory + "/r.sock",
                                                table: RouteTableConfiguration(baseDomains: ["example.com"]))
        configure(&configuration)
        let logger = logger ?? {
            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            return quiet
        }()
        do {
            let server = try RouterServer(configuration: configuration, logger: logger)
            try await server.start()
            return InProcessDaemon(directory: directory, server: server)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    public func connect() throws -> LineClient {
        try LineClient(path: socketPath)
    }

    public func stop() async {
        await server.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Why a `LineClient` call failed.
public struct LineClientError: Error, CustomStringConvertible {
    public var description: String
}

/// A blocking line client over a Unix socket, with read timeouts.
public final class LineClient {
    public let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    public private(set) var greeting: JSONValue = .null

    public init(path: String, readGreeting: Bool = true) throws {
        fd = UnixSocketAddress.connect(path)
        guard fd >= 0 else {
            throw LineClientError(description: "connect \(path): \(String(cString: strerror(errno)))")
        }
        if readGreeting { greeting = try readJSON()["hello"] ?? .null }
    }

    deinit { Glibc.close(fd) }

    public func close() { shutdown(fd, Int32(SHUT_RDWR)) }

    public func send(_ line: String) throws {
        try sendRaw(Array(line.utf8) + [0x0A])
    }

    public func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw LineClientError(description: "send: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    /// The next line, or an error after `timeout` seconds or at end of stream.
    public func readLine(timeout: Double = 10) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            // memchr from where the last line ended: a test reading thousands of lines (a
            // watcher that must keep up) stays fast even in a debug build.
            let newline: Int? = buffer.withUnsafeBufferPointer { b in
                guard start < b.count, let hit = memchr(b.baseAddress! + start, 0x0A, b.count - start) else { return nil }
                return UnsafeRawPointer(b.baseAddress!).distance(to: UnsafeRawPointer(hit))
            }
            if let newline {
                let line = String(decoding: buffer[start..<newline], as: UTF8.self)
                start = newline + 1
                if start == buffer.count {
                    buffer.removeAll(keepingCapacity: true)
                    start = 0
                }
                return line
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw LineClientError(description: "timed out waiting for a line") }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(left * 1000) + 1) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw LineClientError(description: "connection closed") }
            buffer += chunk[..<n]
        }
    }

    public func readJSON(timeout: Double = 10) throws -> JSONValue {
        let line = try readLine(timeout: timeout)
        return try JSONParser.parse(line)
    }

    /// Sends one request line and reads the reply line.
    public func request(_ line: String) throws -> JSONValue {
        try send(line)
        return try readJSON()
    }

    /// Whether the server closed the connection within `timeout` seconds.
    public func isClosed(timeout: Double = 30) -> Bool {
        do {
            while true { _ = try readLine(timeout: timeout) }
        } catch let error as LineClientError {
            return error.description == "connection closed"
        } catch {
            return false
        }
    }
}

extension JSONValue {
    /// Whether a reply line says `"ok":true`.
    public var ok: Bool { self["ok"] == .bool(true) }
    /// A failure reply's error code.
    public var errorCode: String? { self["error"]?["code"]?.stringValue }
    /// A success reply's result.
    public var result: JSONValue? { self["result"] }
}

/// Runs `body` against a fresh daemon and always stops it (and removes its folder) afterwards.
public func withDaemon(_ configure: (inout ServerConfiguration) -> Void = { _ in },
                       _ body: (InProcessDaemon) async throws -> Void) async throws {
    let daemon = try await InProcessDaemon.start(configure)
    do {
        try await body(daemon)
    } catch {
        await daemon.stop()
        throw error
    }
    await daemon.stop()
}
