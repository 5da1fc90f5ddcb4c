import Foundation
import RouterProtocol
import RouterTestSupport
import Testing

/// HTTP through a real routergw following a real routerd, driven with curl.
@Suite("routergw: HTTP by Host", .serialized, .enabled(if: GatewayStack.curl != nil, "needs curl"))
struct HTTPRoutingTests {
    @Test func exactAndWildcardHostsReachTheirTargets() throws {
        let stack = try GatewayStack()
        let exact = try HTTPBackend(name: "exact")
        let wild = try HTTPBackend(name: "wild")
        try stack.add("app.example.com", target: exact.target)
        try stack.add("*.apps.example.com", target: wild.target)
        #expect(try stack.waitRoutable("app.example.com"))
        for host in ["app.example.com", "APP.example.com:80", "app.example.com.", "app.example.com.:8080"] {
            let reply = try stack.get(host, path: "/x?y=1")
            #expect(reply.status == 200, "\(host): \(reply)")
            #expect(try GatewayStack.json(reply.body)["server"] == .string("exact"), "\(host)")
            #expect(try GatewayStack.json(reply.body)["uri"] == .string("/x?y=1"))
        }
        let below = try stack.get("deep.one.apps.example.com")
        #expect(below.status == 200)
        #expect(try GatewayStack.json(below.body)["server"] == .string("wild"))
    }

    @Test func aMissIsA404ThatNamesNothingInternal() throws {
        let stack = try GatewayStack()
        let miss = try stack.get("nothing.example.com")
        #expect(miss.status == 404)
        #expect(miss.body.contains("No service is registered under this name."))
        #expect(!miss.body.contains("example.com") && !miss.body.contains("routerd"))
    }

    @Test func aRouteWithoutATargetIs502TunnelOffline() throws {
        let stack = try GatewayStack()
        try stack.add("offline.example.com", target: nil)
        #expect(try stack.waitRoutable("offline.example.com"))
        let reply = try stack.get("offline.example.com")
        #expect(reply.status == 502)
        #expect(reply.body.contains("The tunnel for this name is offline."))
    }

    @Test func aTargetThatRefusesIs502() throws {
        let stack = try GatewayStack()
        try stack.add("refused.example.com", target: "127.0.0.1:\(freeTCPPort())")
        #expect(try stack.waitRoutable("refused.example.com"))
        let reply = try stack.get("refused.example.com")
        #expect(reply.status == 502)
        #expect(reply.body.contains("refused the connection"))
    }

    @Test func aSilentTargetIs504AfterTheUpstreamTimeout() throws {
        let stack = try GatewayStack(gateway: ["--upstream-timeout", "1s"])
        let silent = try SilentListener()
        try stack.add("slow.example.com", target: "127.0.0.1:\(silent.port)")
        let started = Date()
        #expect(try eventually { try stack.get("slow.example.com").status == 504 })
        #expect(Date().timeIntervalSince(started) >= 1)
    }

    @Test func aMissingOrRepeatedHostOrAMismatchedAbsoluteTargetIs400() throws {
        let stack = try GatewayStack()
        let backend = try HTTPBackend(name: "b")
        try stack.add("app.example.com", target: backend.target)
        #expect(try stack.waitRoutable("app.example.com"))
        #expect(try stack.raw("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").hasPrefix("HTTP/1.1 400"))
        #expect(try stack.raw("GET / HTTP/1.1\r\nHost: app.example.com\r\nHost: other.example.com\r\n\r\n").hasPrefix("HTTP/1.1 400"))
        #expect(try stack.raw("GET http://other.example.com/ HTTP/1.1\r\nHost: app.example.com\r\n\r\n").hasPrefix("HTTP/1.1 400"))
        let same = try stack.raw("GET http://APP.example.com/p HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n")
        #expect(same.hasPrefix("HTTP/1.1 200"), "\(same)")
        #expect(same.contains(#""uri":"\/p""#) || same.contains(#""uri":"/p""#), "\(same)")
    }

    @Test func theBackendSeesForwardedHeadersButNotHopByHopOnes() throws {
        let stack = try GatewayStack()
        let backend = try HTTPBackend(name: "b")
        try stack.add("app.example.com", target: backend.target)
        #expect(try stack.waitRoutable("app.example.com"))
        let reply = try stack.get("app.example.com", extra: ["-H", "X-Forwarded-For: 203.0.113.9", "-H", "Keep-Alive: timeout=5",
                                                             "-H", "Connection: keep-alive, X-Secret", "-H", "X-Secret: 1"])
        let headers = try GatewayStack.json(reply.body)["headers"]
        #expect(headers?["x-forwarded-for"] == .string("203.0.113.9, 127.0.0.1"))
        #expect(headers?["x-forwarded-proto"] == .string("http"))
        #expect(headers?["x-forwarded-host"] == .string("app.example.com"))
        #expect(headers?["host"] == .string("app.example.com"))
        #expect(headers?["keep-alive"] == nil && headers?["x-secret"] == nil)
    }

    @Test func keepAliveServesSeveralRequestsOnOneClientConnection() throws {
        let stack = try GatewayStack()
        let backend = try HTTPBackend(name: "b")
        try stack.add("app.example.com", target: backend.target)
        #expect(try stack.waitRoutable("app.example.com"))
        let url = "http://127.0.0.1:\(stack.gateway.httpPort)/"
        let run = try ChildProcess(GatewayStack.curl!, ["-sv", "-H", "Host: app.example.com", url, url, url],
                                   directory: stack.gateway.directory).wait(timeout: 30)
        #expect(run.stderr.components(separatedBy: "Re-using existing connection").count == 3, "\(run.stderr)")
        #expect(run.stdout.components(separatedBy: #""server":"b""#).count == 4)
    }

    @Test func chunkedAndCloseDelimitedResponsesAreFramedForTheClientWhoAsked() throws {
        let stack = try GatewayStack()
        let chunked = try FramingBackend(framing: .chunked)
        let untilClose = try FramingBackend(framing: .untilClose)
        try stack.add("chunked.example.com", target: chunked.target)
        try stack.add("close.example.com", target: untilClose.target)
        #expect(try stack.waitRoutable("chunked.example.com") && stack.waitRoutable("close.example.com"))
        func get(_ host: String, _ version: String = "1.1") -> [UInt8] {
            Array("GET /x HTTP/\(version)\r\nHost: \(host)\r\n\r\n".utf8)
        }
        // Chunks go on as chunks, the trailer with them, and the connection serves the next request.
        let chunks = HTTPProbe.send([get("chunked.example.com") + get("chunked.example.com")], to: .tcp(port: stack.gateway.httpPort))
        #expect(chunks.responses.map(\.status) == [200, 200] && chunks.leftover.isEmpty, "\(chunks)")
        // (waitRoutable's probe was the backends' first request.)
        #expect(chunks.responses.map { String(decoding: $0.body, as: UTF8.self) } == ["seq=2 GET /x\n", "seq=3 GET /x\n"])
        #expect(chunks.raw.components(separatedBy: "Transfer-Encoding: chunked\r\n").count == 3, "\(chunks.raw)")
        #expect(chunks.raw.contains("0\r\nX-Trailer: done\r\n\r\n") && !chunks.raw.contains("ext=1"), "\(chunks.raw)")
        // A body that ran to the target's close goes chunked to an HTTP/1.1 client, whose connection stays.
        let closed = HTTPProbe.send([get("close.example.com") + get("close.example.com")], to: .tcp(port: stack.gateway.httpPort))
        #expect(closed.responses.map(\.status) == [200, 200] && closed.leftover.isEmpty, "\(closed)")
        #expect(closed.responses.map { String(decoding: $0.body, as: UTF8.self) } == ["seq=2 GET /x\n", "seq=3 GET /x\n"])
        #expect(closed.raw.components(separatedBy: "Transfer-Encoding: chunked\r\n").count == 3, "\(closed.raw)")
        // An HTTP/1.0 client cannot take chunks: its body runs to the close, and it is told so.
        let old = HTTPProbe.send([get("chunked.example.com", "1.0")], to: .tcp(port: stack.gateway.httpPort), halfClose: false)
        #expect(old.closed && old.responses.map(\.status) == [200], "\(old)")
        #expect(old.raw.hasPrefix("HTTP/1.0 200 OK\r\n") && old.raw.contains("Connection: close\r\n"), "\(old.raw)")
        #expect(old.raw.hasSuffix("\r\n\r\nseq=4 GET /x\n") && !old.raw.contains("Transfer-Encoding"), "\(old.raw)")
        // A chunked upload goes up in chunks the gateway framed, its trailer after the last.
        let upload = "POST /up HTTP/1.1\r\nHost: chunked.example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=x\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n"
        let uploaded = HTTPProbe.send([Array(upload.utf8)], to: .tcp(port: stack.gateway.httpPort))
        #expect(uploaded.responses.map(\.status) == [200], "\(uploaded)")
        let received = try #require(chunked.parsed.last)
        #expect(received.method == "POST" && String(decoding: received.body, as: UTF8.self) == "hello world", "\(received)")
        #expect(received.values("transfer-encoding") == ["chunked"] && received.values("content-length").isEmpty)
    }

    @Test func aHEADIsAnsweredWithoutABodyAndTheConnectionServesTheNextRequest() throws {
        let stack = try GatewayStack()
        let backend = try HTTPBackend(name: "b")
        try stack.add("app.example.com", target: backend.target)
        #expect(try stack.waitRoutable("app.example.com"))
        let url = "http://127.0.0.1:\(stack.gateway.httpPort)/"
        // curl fails a HEAD answered with body bytes ("Excess found"), and the GET after it on
        // the same connection would read them as its response.
        for host in ["app.example.com", "nothing.example.com"] {
            let run = try ChildProcess(GatewayStack.curl!, ["-sv", "-H", "Host: \(host)", "-I", url, "--next", "-s", "-H", "Host: \(host)", url],
                                       directory: stack.gateway.directory).wait(timeout: 30)
            #expect(run.status == 0 && !run.stderr.contains("Excess"), "\(run.stderr)")
            #expect(run.stderr.contains("Re-using existing connection"), "\(run.stderr)")
            #expect(run.stdout.contains(host == "app.example.com" ? "HTTP/1.1 200" : "HTTP/1.1 404"), "\(run.stdout)")
        }
    }

    @Test func aStreamed100MBUploadLeavesTheGatewaysMemoryFlat() throws {
        let stack = try GatewayStack()
        let backend = try HTTPBackend(name: "sink")
        try stack.add("upload.example.com", target: backend.target)
        #expect(try stack.waitRoutable("upload.example.com"))
        let file = stack.gateway.directory + "/upload"
        let size = 100 * 1024 * 1024
        #expect(FileManager.default.createFile(atPath: file, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
        let before = stack.gateway.peakResidentBytes
        let reply = try stack.get("upload.example.com", path: "/up", extra: ["-T", file, "-H", "Expect:"])
        #expect(reply.status == 200)
        #expect(try GatewayStack.json(reply.body)["body_bytes"] == .number(size))
        let after = stack.gateway.peakResidentBytes
        // Streamed, not held: the peak grows by buffers, not by the body.
        #expect(after - before < 24 * 1024 * 1024, "peak \(before) → \(after)")
    }

    @Test func anOverlongHeadIs400AndASilentClientIsCutAfterTheHeaderTimeout() throws {
        let stack = try GatewayStack(gateway: ["--header-timeout", "1s"])
        let big = try stack.raw("GET / HTTP/1.1\r\nHost: a.example.com\r\nX-Big: \(String(repeating: "x", count: 100_000))\r\n\r\n")
        #expect(big.hasPrefix("HTTP/1.1 400"), "\(big.prefix(80))")
        let fd = connectTCP(port: stack.gateway.httpPort)
        defer { close(fd) }
        let started = Date()
        var byte: UInt8 = 0
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        #expect(poll(&p, 1, 5000) == 1)
        #expect(read(fd, &byte, 1) == 0, "closed")
        #expect(Date().timeIntervalSince(started) >= 0.9)
    }

    @Test func connectionsBeyondMaxConnectionsAreClosedAsTheyCome() throws {
        let stack = try GatewayStack(gateway: ["--max-connections", "2"])
        /// Whether a connection gets an HTTP answer (it was admitted) rather than a close.
        func answered(_ fd: Int32) -> Bool {
            let request = Array("GET / HTTP/1.1\r\nHost: nothing.example.com\r\n\r\n".utf8)
            guard fd >= 0, write(fd, request, request.count) == request.count else { return false }
            var reply = [UInt8](repeating: 0, count: 512)
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            return poll(&p, 1, 5000) == 1 && read(fd, &reply, reply.count) > 0
        }
        // Two connections the gateway has admitted (each answered, and kept alive).
        var held: [Int32] = []
        defer { held.forEach { close($0) } }
        #expect(eventually {
            let fd = connectTCP(port: stack.gateway.httpPort)
            if answered(fd) { held.append(fd) } else { close(fd) }
            return held.count == 2
        })
        let third = connectTCP(port: stack.gateway.httpPort)
        defer { close(third) }
        #expect(!answered(third), "a third connection is closed, not served")
    }

    @Test func aWebSocketUpgradeIsPassedThroughAndEchoes() throws {
        let stack = try GatewayStack()
        let backend = try HTTPBackend(name: "ws")
        try stack.add("ws.example.com", target: backend.target)
        #expect(try stack.waitRoutable("ws.example.com"))
        let socket = try WebSocketClient(port: stack.gateway.httpPort, host: "ws.example.com")
        #expect(socket.handshake.hasPrefix("HTTP/1.1 101"), "\(socket.handshake)")
        for message in ["hello", String(repeating: "x", count: 3000)] {
            try socket.send(message)
            do {
                #expect(try socket.receive() == message)
            } catch {
                Issue.record("\(error); routergw said: \(stack.gateway.process.stderr)")
                return
            }
        }
    }
}
