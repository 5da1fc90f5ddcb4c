import Foundation
import RouterTestSupport
import Testing

/// Connections to targets outlive the client connections that opened them (HAProxy's
/// `http-reuse safe`), and a pooled connection that the target had closed costs an
/// idempotent request nothing.
@Suite("routergw: connections to targets", .serialized, .enabled(if: GatewayStack.curl != nil, "needs curl"))
struct UpstreamReuseTests {
    static let get = "GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n"

    @Test func aKeptAliveConnectionServesTheNextClient() throws {
        let stack = try GatewayStack(gateway: ["--threads", "1"])
        let backend = try FramingBackend()
        try stack.add("app.example.com", target: backend.target)
        #expect(try stack.waitRoutable("app.example.com"))
        let before = backend.connections
        for _ in 0..<5 {
            let result = HTTPProbe.send([Array(Self.get.utf8)], to: .tcp(port: stack.gateway.httpPort))
            #expect(result.responses.map(\.status) == [200], "\(result)")
        }
        #expect(backend.connections - before <= 1, "five clients one after another took \(backend.connections - before) connections")
    }

    @Test func aClientThatClosesAfterItsRequestLeavesTheTargetsConnectionPooled() throws {
        let stack = try GatewayStack(gateway: ["--threads", "1"])
        let backend = try FramingBackend()
        try stack.add("app.example.com", target: backend.target)
        #expect(try stack.waitRoutable("app.example.com"))
        let before = backend.connections
        let closing = "GET / HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n"
        for _ in 0..<4 {
            let result = HTTPProbe.send([Array(closing.utf8)], to: .tcp(port: stack.gateway.httpPort), halfClose: false)
            #expect(result.responses.map(\.status) == [200] && result.closed, "\(result)")
        }
        #expect(backend.connections - before <= 1, "four closing clients took \(backend.connections - before) connections")
    }

    @Test func withoutIdleConnectionsEveryClientOpensItsOwn() throws {
        let stack = try GatewayStack(gateway: ["--threads", "1", "--max-idle-upstream", "0"])
        let backend = try FramingBackend()
        try stack.add("app.example.com", target: backend.target)
        #expect(try stack.waitRoutable("app.example.com"))
        let before = backend.connections
        for _ in 0..<3 {
            #expect(HTTPProbe.send([Array(Self.get.utf8)], to: .tcp(port: stack.gateway.httpPort)).responses.map(\.status) == [200])
        }
        #expect(backend.connections - before == 3)
    }

    @Test func aResponseNotReadToItsEndNeverGoesBackToThePool() throws {
        let stack = try GatewayStack(gateway: ["--threads", "1"])
        let backend = try FramingBackend()
        try stack.add("app.example.com", target: backend.target)
        #expect(try stack.waitRoutable("app.example.com"))
        // A request whose body the target answers before it has arrived: the connection to
        // the target carries the rest of a message, and is closed rather than parked.
        let partial = "POST / HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 100\r\n\r\nabc"
        let cut = HTTPProbe.send([Array(partial.utf8)], to: .tcp(port: stack.gateway.httpPort))
        #expect(cut.responses.allSatisfy { $0.seq == nil }, "\(cut)")
        #expect(eventually { backend.openConnections == 0 }, "the connection that carried a cut request is closed")
        let next = HTTPProbe.send([Array(Self.get.utf8)], to: .tcp(port: stack.gateway.httpPort))
        #expect(next.responses.map(\.status) == [200], "\(next)")
        #expect(backend.parsed.last?.method == "GET" && backend.parsed.allSatisfy { $0.method != "POST" })
    }

    @Test func anIdempotentRequestOnAClosedPooledConnectionIsSentAgainOnceAndAPostIsNot() throws {
        let stack = try GatewayStack(gateway: ["--threads", "1"])
        let backend = try FramingBackend(dropsSecondRequest: true)
        try stack.add("app.example.com", target: backend.target)
        #expect(try stack.waitRoutable("app.example.com"))
        // Park a connection, then send on it: the target drops it as the request arrives.
        #expect(HTTPProbe.send([Array(Self.get.utf8)], to: .tcp(port: stack.gateway.httpPort)).responses.map(\.status) == [200])
        let retried = HTTPProbe.send([Array(Self.get.utf8)], to: .tcp(port: stack.gateway.httpPort))
        #expect(retried.responses.map(\.status) == [200], "a GET is sent again on a fresh connection: \(retried)")
        #expect(HTTPProbe.send([Array(Self.get.utf8)], to: .tcp(port: stack.gateway.httpPort)).responses.map(\.status) == [200])
        let post = "POST / HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 5\r\n\r\nhello"
        let refused = HTTPProbe.send([Array(post.utf8)], to: .tcp(port: stack.gateway.httpPort))
        #expect(refused.responses.map(\.status) == [502], "a POST is not sent twice: \(refused)")
        #expect(!backend.parsed.contains { $0.method == "POST" })
    }
}

/// The access log: a line per request at `info`, none at `notice`.
@Suite("routergw: access log", .serialized, .enabled(if: GatewayStack.curl != nil, "needs curl"))
struct AccessLogTests {
    @Test func eachRequestHasALineAtInfoAndNoneAtNotice() throws {
        let backend = try FramingBackend()
        for level in ["info", "notice"] {
            let stack = try GatewayStack(gateway: ["--log-level", level])
            try stack.add("app.example.com", target: backend.target)
            #expect(try stack.waitRoutable("app.example.com"))
            let get = "GET /x HTTP/1.1\r\nHost: app.example.com\r\n\r\nDELETE /y HTTP/1.1\r\nHost: nothing.example.com\r\n\r\n"
            #expect(HTTPProbe.send([Array(get.utf8)], to: .tcp(port: stack.gateway.httpPort)).responses.map(\.status) == [200, 404])
            let stderr = { stack.gateway.process.stderr }
            if level == "info" {
                #expect(eventually { stderr().contains("method=DELETE") }, "\(stderr())")
                let lines = stderr().split(separator: "\n").filter { $0.hasSuffix("[RouterGateway] http") }
                let get = lines.first { $0.contains("method=GET ms=") && $0.contains("key=app.example.com") && $0.contains("status=200") }
                #expect(get?.contains(" info routergw: bytes=") == true, "\(lines)")
                #expect(lines.contains { $0.contains("host=nothing.example.com key=- method=DELETE") && $0.contains("status=404") && $0.contains("bytes=") },
                        "a miss names the host it was asked for: \(lines)")
            } else {
                _ = try stack.gateway.stop()
                #expect(!stack.gateway.process.stderr.contains("[RouterGateway] http"))
            }
        }
    }
}
