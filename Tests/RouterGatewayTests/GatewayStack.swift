import Foundation
import RouterProtocol
import RouterTestSupport

/// routerd and a routergw following it, both as processes on temporary sockets and ports,
/// with an admin connection to routerd for adding routes.
final class GatewayStack {
    static let curl = ["/usr/bin/curl", "/usr/local/bin/curl"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let socat = ["/usr/bin/socat", "/usr/local/bin/socat"].first { FileManager.default.isExecutableFile(atPath: $0) }

    var routerd: RouterdProcess
    let gateway: GatewayProcess
    var admin: LineClient
    private var ids = 0

    init(gateway arguments: [String] = []) throws {
        routerd = try RouterdProcess(["--domain", "example.com", "--log-level", "warning"])
        gateway = try GatewayProcess(following: routerd.socket, arguments)
        admin = try LineClient(path: routerd.socket)
    }

    deinit {
        admin.close()
        _ = try? gateway.stop()
        _ = try? routerd.stop()
    }

    /// Sends one request as an admin and returns its reply; fails on a refusal.
    @discardableResult
    func request(_ op: String, _ fields: String) throws -> JSONValue {
        ids += 1
        let reply = try admin.request(#"{"id":\#(ids),"op":"\#(op)",\#(fields)}"#)
        guard reply["ok"] == .bool(true) else { throw LaunchError("\(op) \(fields): \(reply)") }
        return reply
    }

    /// Adds `key` with `target` (none when nil), then waits until the gateway's replica has
    /// it (its HTTP listener no longer answers 404 for it), for host keys.
    func add(_ key: String, target: String?) throws {
        let targetField = target.map { #","target":"\#($0)""# } ?? ""
        try request("add", #""key":"\#(key)","tunnel":"t-\#(abs(key.hashValue))"\#(targetField)"#)
    }

    /// Runs curl against the gateway's HTTP listener with `Host: host`; the status and body.
    func get(_ host: String, path: String = "/", extra: [String] = []) throws -> (status: Int, body: String) {
        let run = try ChildProcess(Self.curl!, ["-s", "-o", "-", "-w", "\n%{http_code}", "-H", "Host: \(host)"] + extra
                                   + ["http://127.0.0.1:\(gateway.httpPort)\(path)"], directory: gateway.directory).wait(timeout: 30)
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    /// Waits until a request for `host` through the gateway no longer gets 404.
    func waitRoutable(_ host: String) throws -> Bool {
        try eventually { try get(host).status != 404 }
    }

    /// The JSON a backend answered with.
    static func json(_ body: String) throws -> JSONValue {
        try JSONParser.parse(body)
    }

    /// Sends `request` as raw bytes to the gateway's HTTP port and returns what comes back
    /// before the gateway closes or 5 s pass.
    func raw(_ request: String) throws -> String {
        let fd = connectTCP(port: gateway.httpPort)
        guard fd >= 0 else { throw LaunchError("cannot connect to the gateway") }
        defer { close(fd) }
        _ = request.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 200) >= 0 else { break }
            if p.revents == 0 {
                if !out.isEmpty, String(decoding: out, as: UTF8.self).contains("\r\n\r\n") { break }
                continue
            }
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            out += chunk[..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
