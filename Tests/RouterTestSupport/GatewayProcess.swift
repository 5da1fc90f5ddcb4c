import Foundation

/// The built routergw binary following a routerd socket, with an HTTP listener, a TLS
/// listener and TCP routes on 127.0.0.1 (ports the kernel had free). It is up once it logs
/// that it follows routerd and its HTTP port accepts; if not within 10 s (or it exits),
/// starting fails with its stderr. `stop()` sends SIGTERM and waits up to 10 s.
public final class GatewayProcess {
    public let directory: String
    public private(set) var httpPort = 0
    public private(set) var tlsPort = 0
    public let process: ChildProcess
    private var stopped = false

    /// Starts `routergw --follow SOCKET --http 127.0.0.1:0 --tls 127.0.0.1:0 --tcp-address
    /// 127.0.0.1` and `arguments`; the ports are the ones the kernel gave it, read from its log
    /// (no other process can take them between a pick and a bind).
    public init(following socket: String, _ arguments: [String] = [], environment: [String: String] = [:]) throws {
        directory = makeTemporaryDirectory("gw-")
        process = try ChildProcess(productsDirectory + "/routergw",
                                   ["--follow", socket, "--http", "127.0.0.1:0", "--tls", "127.0.0.1:0",
                                    "--tcp-address", "127.0.0.1"] + arguments,
                                   environment: environment, directory: directory)
        let process = self.process
        do {
            try process.waitUntil("routergw should follow routerd and listen") {
                process.stderr.contains("following routerd") && Self.port("http", in: process.stderr) != nil
                    && Self.port("tls", in: process.stderr) != nil
            }
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        httpPort = Self.port("http", in: process.stderr)!
        tlsPort = Self.port("tls", in: process.stderr)!
    }

    /// The port of routergw's `listening … listener=NAME` log line.
    static func port(_ listener: String, in log: String) -> Int? {
        for line in log.split(separator: "\n") where line.contains("listener=\(listener) ") && line.contains(" listening") {
            guard let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }),
                  let colon = address.lastIndex(of: ":") else { continue }
            return Int(address[address.index(after: colon)...])
        }
        return nil
    }

    deinit {
        if !stopped { _ = try? stop() }
    }

    /// The gateway's peak resident memory so far (VmHWM), in bytes.
    public var peakResidentBytes: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return 0 }
        return kb * 1024
    }

    /// SIGTERM, then up to 10 s to exit; a gateway that does not exit is killed and reported.
    @discardableResult
    public func stop() throws -> Finished {
        guard !stopped else { return process.wait(timeout: 0) }
        stopped = true
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try process.terminate("routergw")
    }
}
