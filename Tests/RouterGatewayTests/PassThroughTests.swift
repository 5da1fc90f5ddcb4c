import Foundation
import RouterProtocol
import RouterTestSupport
import Testing

/// TLS pass-through by SNI and TCP routes by port, through a real routergw, with openssl and
/// socat as the clients.
@Suite("routergw: TLS and TCP", .serialized,
       .enabled(if: opensslPath != nil && GatewayStack.socat != nil && GatewayStack.curl != nil, "needs openssl, socat and curl"))
struct PassThroughTests {
    /// `openssl s_server -www` on a free port with a self-signed certificate for `localhost`.
    final class TLSBackend {
        let port = freeTCPPort()
        let process: ChildProcess
        let directory = makeTemporaryDirectory("tls-")

        init() throws {
            try makeTestCertificate(in: directory)
            process = try ChildProcess(opensslPath!, ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", directory + "/cert.pem",
                                                      "-key", directory + "/key.pem", "-www", "-quiet"], directory: directory)
            guard eventually(timeout: 10, { connectTCP(port: self.port).closing() }) else {
                throw LaunchError("openssl s_server did not listen: \(process.stderr)")
            }
        }

        deinit {
            process.signal(SIGKILL)
            process.wait()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// `openssl s_client` through the gateway's TLS port naming `serverName`, sending an HTTP
    /// request once the handshake is done; what it printed.
    func client(_ stack: GatewayStack, serverName: String) throws -> Finished {
        try ChildProcess(opensslPath!, ["s_client", "-connect", "127.0.0.1:\(stack.gateway.tlsPort)", "-servername", serverName,
                                        "-ign_eof"],
                         stdin: "GET / HTTP/1.0\r\n\r\n", directory: stack.gateway.directory).wait(timeout: 20)
    }

    @Test func aTLSConnectionIsPassedThroughToTheBackendByItsServerName() throws {
        let stack = try GatewayStack()
        let backend = try TLSBackend()
        try stack.add("secure.example.com", target: "127.0.0.1:\(backend.port)")
        // The handshake was the backend's own: the client sees its certificate, byte for byte.
        // Until the route is followed (or while s_server is still starting) s_client finishes
        // without one, so it is asked again until a handshake completes.
        let pem = try String(contentsOfFile: backend.directory + "/cert.pem", encoding: .utf8)
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined(separator: "\n")
        var run = Finished(status: 1, stdout: "", stderr: "")
        #expect(try eventually {
            run = try client(stack, serverName: "secure.example.com")
            return run.stdout.contains(body)
        }, "\(run)")
        #expect(run.stdout.contains("Protocol  : TLSv1.3"), "\(run.stdout)")
        // And application data crosses: curl fetches s_server's page over the passed-through session.
        let page = try ChildProcess(GatewayStack.curl!, ["-sk", "--resolve", "secure.example.com:\(stack.gateway.tlsPort):127.0.0.1",
                                                         "https://secure.example.com:\(stack.gateway.tlsPort)/"],
                                    directory: stack.gateway.directory).wait(timeout: 20)
        #expect(page.stdout.contains("<HTML>"), "\(page)")
        #expect(stack.gateway.process.stderr.contains("key=secure.example.com"))
    }

    @Test func aServerNameWithoutARouteIsReset() throws {
        let stack = try GatewayStack()
        let run = try client(stack, serverName: "nothing.example.com")
        #expect(run.status != 0)
        #expect(!run.stdout.contains("BEGIN CERTIFICATE") && !run.stdout.contains("s_server"))
        #expect(run.stderr.contains("104") || run.stderr.lowercased().contains("reset"), "\(run.stderr)")
        #expect(stack.gateway.process.stderr.contains("no route; reset"))
    }

    @Test func bytesThatAreNotAClientHelloAreReset() throws {
        let stack = try GatewayStack()
        let fd = connectTCP(port: stack.gateway.tlsPort)
        defer { close(fd) }
        _ = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".withCString { write(fd, $0, strlen($0)) }
        var byte: UInt8 = 0
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        #expect(poll(&p, 1, 5000) == 1)
        #expect(read(fd, &byte, 1) == -1 && errno == ECONNRESET)
    }

    @Test func aTCPRouteListensWhileItExistsAndSplicesToItsTarget() throws {
        let stack = try GatewayStack()
        let backend = try HTTPBackend(name: "tcp")
        let port = freeTCPPort()
        try stack.add("tcp:\(port)", target: backend.target)
        #expect(eventually { connectTCP(port: port).closing() })
        let run = try ChildProcess(GatewayStack.socat!, ["-t", "5", "-", "TCP:127.0.0.1:\(port)"],
                                   stdin: "GET /over-tcp HTTP/1.0\r\nHost: anything\r\n\r\n", directory: stack.gateway.directory).wait(timeout: 20)
        #expect(run.stdout.hasPrefix("HTTP/1.0 200"), "\(run)")
        #expect(run.stdout.contains("/over-tcp"))
        try stack.request("delete", #""key":"tcp:\#(port)""#)
        // The route gone, the port closes: new connections are refused by the kernel.
        #expect(eventually { !connectTCP(port: port).closing() })
    }

    @Test func theGatewayFollowsARestartedRouterd() throws {
        let stack = try GatewayStack()
        let backend = try HTTPBackend(name: "b")
        try stack.add("before.example.com", target: backend.target)
        #expect(try stack.waitRoutable("before.example.com"))
        let socket = stack.routerd.socket
        stack.admin.close()
        try stack.routerd.stop()
        // routerd away: the gateway keeps routing by what it has.
        #expect(try stack.get("before.example.com").status == 200)
        stack.routerd = try RouterdProcess(["--domain", "example.com", "--log-level", "warning"], socket: socket)
        stack.admin = try LineClient(path: socket)
        try stack.add("after.example.com", target: backend.target)
        // The new routerd's table (another instance) replaces the replica.
        #expect(try stack.waitRoutable("after.example.com"))
        #expect(try eventually { try stack.get("before.example.com").status == 404 })
    }
}

extension Int32 {
    /// Whether this is a connected socket (closing it).
    func closing() -> Bool {
        guard self >= 0 else { return false }
        close(self)
        return true
    }
}

/// Per-route allow and deny through a real routergw: the client's own address decides.
@Suite("routergw: access rules", .serialized, .enabled(if: GatewayStack.curl != nil, "needs curl"))
struct AccessRuleTests {
    @Test func anHTTPClientOutsideTheRulesGets403AndOneInsideGetsThrough() throws {
        let stack = try GatewayStack()
        let backend = try HTTPBackend(name: "b")
        try stack.request("add", #""key":"open","tunnel":"t1","target":"\#(backend.target)","allow":["127.0.0.1"]"#)
        try stack.request("add", #""key":"elsewhere","tunnel":"t2","target":"\#(backend.target)","allow":["10.0.0.0/8"]"#)
        try stack.request("add", #""key":"denied","tunnel":"t3","target":"\#(backend.target)","allow":["127.0.0.0/8"],"deny":["127.0.0.1"]"#)
        #expect(try stack.waitRoutable("open.example.com"))
        #expect(try stack.get("open.example.com").status == 200)
        let outside = try stack.get("elsewhere.example.com")
        #expect(outside.status == 403)
        #expect(outside.body.contains("Your address may not reach this service."))
        // A header the client writes changes nothing: the connection's address decides.
        #expect(try stack.get("elsewhere.example.com", extra: ["-H", "X-Forwarded-For: 10.0.0.1"]).status == 403)
        #expect(try stack.get("denied.example.com").status == 403, "deny wins over allow")
    }

    @Test func aTCPClientOutsideTheRulesIsReset() throws {
        let stack = try GatewayStack()
        let backend = try HTTPBackend(name: "tcp")
        let port = freeTCPPort()
        try stack.request("add", #""key":"tcp:\#(port)","tunnel":"t1","target":"\#(backend.target)","deny":["127.0.0.0/8"]"#)
        #expect(eventually { connectTCP(port: port).closing() })
        let fd = connectTCP(port: port)
        defer { close(fd) }
        var byte: UInt8 = 0
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        #expect(poll(&p, 1, 5000) == 1)
        #expect(read(fd, &byte, 1) == -1 && errno == ECONNRESET)
        #expect(stack.gateway.process.stderr.contains("address not allowed; reset"))
    }
}
