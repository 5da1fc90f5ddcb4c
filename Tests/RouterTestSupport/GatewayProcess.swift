import Foundation

/// The built routergw binary following a routerd socket, with an HTTP listener, a TLS
/// listener and TCP routes on 127.0.0.1 (ports the kernel had free). It is up once it logs
/// that it follows routerd and its HTTP port accepts; if not within 10 s (or it exits),
/// starting fails with its stderr. `stop()` sends SIGTERM and waits up to 10 s.
public final class GatewayProcess {
    public let directory: String
    public let httpPort: Int
    public let tlsPort: Int
    public let process: ChildProcess
    private var stopped = false

    /// Starts `routergw --follow SOCKET --http … --tls … --tcp-address 127.0.0.1` and `arguments`.
    public init(following socket: String, _ arguments: [String] = []) throws {
        directory = makeTemporaryDirectory("gw-")
        httpPort = freeTCPPort()
        tlsPort = freeTCPPort()
        process = try ChildProcess(productsDirectory + "/routergw",
                                   ["--follow", socket, "--http", "127.0.0.1:\(httpPort)", "--tls", "127.0.0.1:\(tlsPort)",
                                    "--tcp-address", "127.0.0.1"] + arguments,
                                   directory: directory)
        let (process, port) = (self.process, httpPort)
        do {
            try process.waitUntil("routergw should follow routerd and serve on \(port)") {
                process.stderr.contains("following routerd") && Self.accepts(port)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    deinit {
        if !stopped { _ = try? stop() }
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = connectTCP(port: port)
        guard fd >= 0 else { return false }
        close(fd)
        return true
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
        process.signal(SIGTERM)
        let finished = process.wait(timeout: 10)
        if process.timedOut {
            throw LaunchError("routergw did not exit within 10 s of SIGTERM: \(finished.stderr)")
        }
        return finished
    }
}
