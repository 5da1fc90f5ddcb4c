import Foundation
import RouterProtocol

/// HAProxy in front of one backend, as the reference proxy of a differential test: `haproxy -f
/// FILE -db` (foreground) with a configuration of the test's own, its HTTP frontend on a Unix
/// socket in a temporary folder (no port to pick and lose), every request to `backend`. The
/// server connection closes after each response (`http-server-close`), so a test knows the
/// backend has seen everything a probe sent once the backend's connections are closed.
///
/// A client that half-closes may have the requests it pipelined after the current one dropped
/// (HAProxy's answer to a client leaving); one that does not is closed once HAProxy has waited
/// `keepAlive` for another request after its last answer (requests already sent are not
/// waited for), or `idle` for bytes that never come.
public final class HAProxyProcess {
    /// Where Debian's package puts it; the test script installs it.
    public static let path = ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy", "/usr/bin/haproxy"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    public let directory: String
    public let socket: String
    private let process: ChildProcess
    private var stopped = false

    /// Starts HAProxy forwarding every request on its socket to `127.0.0.1:backendPort`.
    public init(backendPort: Int, keepAlive: String = "50ms", idle: String = "2s") throws {
        guard let haproxy = Self.path else { throw LaunchError("haproxy is not installed (scripts/install-packages.sh test installs it)") }
        directory = makeTemporaryDirectory("haproxy-")
        socket = directory + "/fe.sock"
        let config = """
            global
              maxconn 1000
            defaults
              mode http
              timeout connect 5s
              timeout client \(idle)
              timeout http-request \(idle)
              timeout http-keep-alive \(keepAlive)
              timeout server \(idle)
              option http-server-close
            frontend fe
              bind unix@\(socket)
              default_backend be
            backend be
              server s1 127.0.0.1:\(backendPort)

            """
        try config.write(toFile: directory + "/haproxy.cfg", atomically: true, encoding: .utf8)
        process = try ChildProcess(haproxy, ["-f", directory + "/haproxy.cfg", "-db"], directory: directory)
        let socket = self.socket
        try process.waitUntil("haproxy should listen on \(socket)") {
            let fd = UnixSocketAddress.connect(socket)
            if fd >= 0 { close(fd) }
            return fd >= 0
        }
    }

    deinit {
        if !stopped { stop() }
    }

    /// SIGTERM (HAProxy stops at once), then removes its folder.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        _ = try? process.terminate("haproxy")
        try? FileManager.default.removeItem(atPath: directory)
    }
}
