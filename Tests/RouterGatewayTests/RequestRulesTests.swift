import NIOCore
import NIOHTTP1
@testable import RouterGateway
import Testing

/// The rules a request head passes before anything of it goes upstream, and the head that
/// goes: framing decided once and written by the gateway.
@Suite("routergw: request rules")
struct RequestRulesTests {
    func head(_ method: HTTPMethod, _ uri: String, version: HTTPVersion = .http1_1, _ fields: [(String, String)]) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders([("Host", "app.example.com")] + fields))
    }

    func head(_ method: HTTPMethod, version: HTTPVersion = .http1_1, _ fields: [(String, String)]) -> HTTPRequestHead {
        head(method, "/", version: version, fields)
    }

    func post(_ fields: [(String, String)]) -> HTTPRequestHead {
        head(.POST, "/", fields)
    }

    func refusal(_ head: HTTPRequestHead) -> RequestRefusal? {
        do {
            _ = try RequestRules.framing(of: head)
            return nil
        } catch {
            return error
        }
    }

    @Test func chunkedAloneInAnyCaseIsChunked() throws {
        #expect(try RequestRules.framing(of: post([("Transfer-Encoding", "chunked")])) == .chunked)
        #expect(try RequestRules.framing(of: post([("Transfer-Encoding", " CHUNKED\t")])) == .chunked)
        #expect(try RequestRules.framing(of: head(.GET, [("Transfer-Encoding", "Chunked")])) == .chunked)
    }

    @Test func anyOtherTransferEncodingIsRefusedAndClosesTheConnection() {
        for value in ["gzip, chunked", "chunked, gzip", "xchunked", "chunked, chunked", "identity", "", "chunked;q=1"] {
            let refused = refusal(post([("Transfer-Encoding", value)]))
            #expect(refused != nil && refused!.closesAtOnce, "\(value)")
        }
        #expect(refusal(post([("Transfer-Encoding", "gzip, chunked")]))?.status == .notImplemented)
        #expect(refusal(post([("Transfer-Encoding", "chunked, gzip")]))?.status == .badRequest)
        #expect(refusal(post([("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")]))?.status == .badRequest)
        #expect(refusal(post([("Transfer-Encoding", "chunked"), ("Content-Length", "5")]))?.status == .badRequest)
        #expect(refusal(head(.POST, version: .http1_0, [("Transfer-Encoding", "chunked")]))?.status == .badRequest)
    }

    @Test func contentLengthIsOneFieldOfDigits() throws {
        #expect(try RequestRules.framing(of: post([("Content-Length", "5")])) == .length(5))
        #expect(try RequestRules.framing(of: post([("Content-Length", " 5 ")])) == .length(5))
        #expect(refusal(post([("Content-Length", "5, 5")]))?.status == .badRequest, "a list, even of equal values")
        #expect(refusal(post([("Content-Length", "5"), ("Content-Length", "5")]))?.status == .badRequest, "two fields")
        #expect(try RequestRules.framing(of: head(.GET, [])) == BodyFraming.none)
        for value in ["+5", "1e3", "-1", "0x5", "5, 6", "", "1 0", "99999999999999999999", "5,"] {
            #expect(refusal(post([("Content-Length", value)]))?.status == .badRequest, "\(value)")
        }
        #expect(refusal(post([("Content-Length", "5"), ("Content-Length", "6")]))?.status == .badRequest)
    }

    @Test func onlyOriginFormOrAnHTTPURLToTheHostIsForwarded() throws {
        #expect(try RequestRules.originTarget(of: head(.GET, "/a?b", []), host: "app.example.com") == "/a?b")
        #expect(try RequestRules.originTarget(of: head(.GET, "HTTP://App.Example.com:80/x?y", []), host: "app.example.com") == "/x?y")
        #expect(try RequestRules.originTarget(of: head(.GET, "https://app.example.com", []), host: "app.example.com") == "/")
        #expect(try RequestRules.originTarget(of: head(.OPTIONS, "*", []), host: "app.example.com") == "*")
        for (method, uri) in [(HTTPMethod.GET, "ws://app.example.com/x"), (.GET, "ftp://app.example.com/"),
                              (.GET, "http://other.example.com/"), (.GET, "http://u@app.example.com/"), (.GET, "*"),
                              (.GET, "app.example.com:80"), (.GET, "http:/x"), (.GET, "http://")] {
            #expect(throws: RequestRefusal.self, "\(method) \(uri)") {
                try RequestRules.originTarget(of: head(method, uri, []), host: "app.example.com")
            }
        }
        #expect(throws: RequestRefusal(code: .method, status: .methodNotAllowed, message: "CONNECT is not served here.")) {
            try RequestRules.originTarget(of: head(.CONNECT, "app.example.com:443", []), host: "app.example.com")
        }
    }

    /// A head the gateway wrote, read back: its first line and its fields.
    func sent(_ bytes: ByteBuffer) -> (line: String, headers: HTTPHeaders) {
        let text = String(buffer: bytes)
        #expect(text.hasSuffix("\r\n\r\n"))
        // "\r\n" is one Character: dropping two drops the empty line's.
        var lines = text.dropLast(2).components(separatedBy: "\r\n")
        let line = lines.removeFirst()
        return (line, HTTPHeaders(lines.map { field in
            let colon = field.firstIndex(of: ":")!
            return (String(field[..<colon]), String(field[field.index(after: colon)...].dropFirst()))
        }))
    }

    @Test func theUpstreamHeadCarriesTheGatewaysFramingAndAConnectionCannotStripIt() {
        let client = head(.GET, "/p", [("Connection", "Content-Length, Transfer-Encoding, Host, X-Drop"),
                                       ("Transfer-Encoding", "Chunked"), ("X-Drop", "1"), ("X-Keep", "2")])
        let chunked = sent(HTTPForwarding.upstreamHead(client, target: "/p", framing: .chunked, host: "app.example.com",
                                                  clientIP: "192.0.2.1", scheme: "http"))
        #expect(chunked.line == "GET /p HTTP/1.1")
        #expect(chunked.headers["transfer-encoding"] == ["chunked"])
        #expect(chunked.headers["content-length"].isEmpty)
        #expect(chunked.headers["host"] == ["app.example.com"])
        #expect(chunked.headers["x-drop"].isEmpty && chunked.headers["x-keep"] == ["2"])
        #expect(chunked.headers["connection"].isEmpty)
        let sized = sent(HTTPForwarding.upstreamHead(post([("Content-Length", "05"), ("Connection", "close")]), target: "/",
                                                framing: .length(5), host: "app.example.com", clientIP: nil, scheme: "http"))
        #expect(sized.headers["content-length"] == ["5"])
        #expect(sized.headers["transfer-encoding"].isEmpty)
        let none = sent(HTTPForwarding.upstreamHead(head(.GET, [("Content-Length", "0")]), target: "/", framing: .none,
                                               host: "app.example.com", clientIP: nil, scheme: "http"))
        #expect(none.headers["content-length"].isEmpty && none.headers["transfer-encoding"].isEmpty)
        // The X-Forwarded fields are the gateway's: the client's address appended, the rest replaced.
        let forwarded = sent(HTTPForwarding.upstreamHead(head(.GET, [("X-Forwarded-For", "10.0.0.1"), ("x-forwarded-proto", "https"),
                                                                ("X-Forwarded-Host", "evil.example"), ("x-forwarded-for", "10.0.0.2")]),
                                                    target: "/", framing: .none, host: "app.example.com", clientIP: "192.0.2.1",
                                                    scheme: "http"))
        #expect(forwarded.headers["x-forwarded-for"] == ["10.0.0.1, 10.0.0.2, 192.0.2.1"])
        #expect(forwarded.headers["x-forwarded-proto"] == ["http"] && forwarded.headers["x-forwarded-host"] == ["app.example.com"])
        let unknownPeer = sent(HTTPForwarding.upstreamHead(head(.GET, [("X-Forwarded-For", "10.0.0.9")]), target: "/",
                                                           framing: .none, host: "app.example.com", clientIP: nil, scheme: "http"))
        #expect(unknownPeer.headers["x-forwarded-for"] == ["10.0.0.9"])
    }

    @Test func hopByHopFieldsAreKnownInAnyCaseAndNoOthers() {
        for name in HeaderNames.hopByHop {
            #expect(HeaderNames.isHopByHop(name) && HeaderNames.isHopByHop(name.uppercased()), "\(name)")
        }
        for name in ["content-length", "host", "tE ", "t", "connections", "keep_alive", "upgrade-insecure-requests", "x-te"] {
            #expect(!HeaderNames.isHopByHop(name), "\(name)")
        }
        let names = HeaderNames(connectionOf: HTTPHeaders([("Connection", " close ,X-A,,\tx-b , content-length, HOST")]))
        #expect(!names.endToEnd("x-a") && !names.endToEnd("X-B") && !names.endToEnd("Keep-Alive"))
        #expect(names.endToEnd("Content-Length") && names.endToEnd("host") && names.endToEnd("x-c"))
    }

    /// A target's response head as the gateway's parser reads it, for a request with `method`.
    func response(_ status: String, _ fields: [(String, String)], to method: HTTPMethod = .GET) throws -> ResponseParser.Head {
        var parser = ResponseParser()
        parser.expectResponse(to: method)
        var bytes = ByteBuffer(string: "HTTP/1.1 \(status)\r\n" + (fields + [("Connection", "keep-alive")]).map { "\($0): \($1)\r\n" }.joined()
                                   + "\r\n")
        guard case .head(let head) = try parser.next(&bytes) else { throw RequestDecoder.Malformed(description: "no head") }
        return head
    }

    @Test func theResponseIsFramedForTheBodyTheGatewaySends() throws {
        /// The head's bytes read back: its status line and its fields, in order.
        func written(_ head: HTTPForwarding.DownstreamHead) -> (line: String, fields: [(String, String)]) {
            let text = String(buffer: head.bytes)
            #expect(text.hasSuffix("\r\n\r\n"))
            var lines = text.dropLast(2).components(separatedBy: "\r\n")  // "\r\n" is one Character
            let line = lines.removeFirst()
            return (line, lines.map { field in
                let colon = field.firstIndex(of: ":")!
                return (String(field[..<colon]), String(field[field.index(after: colon)...].dropFirst()))
            })
        }
        func values(_ head: HTTPForwarding.DownstreamHead, _ name: String) -> [String] {
            written(head).fields.filter { $0.0.lowercased() == name }.map(\.1)
        }
        // A Content-Length is kept; a chunked or close-delimited body goes chunked to 1.1.
        let sized = HTTPForwarding.downstreamHead(try response("200 OK", [("Content-Length", "3"), ("X-Keep", "a,  b")]),
                                                  version: .http1_1, keepAlive: true)
        #expect(written(sized).line == "HTTP/1.1 200 OK")
        #expect(values(sized, "content-length") == ["3"] && values(sized, "transfer-encoding").isEmpty && sized.keepAlive)
        #expect(values(sized, "connection").isEmpty && values(sized, "x-keep") == ["a,  b"] && !sized.chunked)
        let chunked = HTTPForwarding.downstreamHead(try response("200 OK", [("Transfer-Encoding", "Chunked")]),
                                                    version: .http1_1, keepAlive: true)
        #expect(values(chunked, "transfer-encoding") == ["chunked"] && chunked.keepAlive && chunked.chunked)
        let untilClose = HTTPForwarding.downstreamHead(try response("200 OK", []), version: .http1_1, keepAlive: true)
        #expect(values(untilClose, "transfer-encoding") == ["chunked"] && untilClose.keepAlive && untilClose.chunked)
        // An HTTP/1.0 client cannot take chunks: the body runs to the close.
        let old = HTTPForwarding.downstreamHead(try response("200 OK", []), version: .http1_0, keepAlive: true)
        #expect(written(old).line == "HTTP/1.0 200 OK")
        #expect(values(old, "transfer-encoding").isEmpty && !old.keepAlive && values(old, "connection") == ["close"] && !old.chunked)
        // No body: never chunked (a last chunk would be read as the next response), the length kept as metadata.
        for (method, status) in [(HTTPMethod.HEAD, "200 OK"), (.GET, "204 No Content"), (.GET, "304 Not Modified")] {
            let head = try response(status, [("Transfer-Encoding", "chunked"), ("Content-Length", "9")], to: method)
            #expect(head.framing == .none)
            let bodiless = HTTPForwarding.downstreamHead(head, version: .http1_1, keepAlive: true)
            #expect(values(bodiless, "transfer-encoding").isEmpty && !bodiless.chunked, "\(method) \(status)")
            #expect(values(bodiless, "content-length") == ["9"] && bodiless.keepAlive)
        }
        // A response with both: framed by its chunks, so it goes on chunked, the target's connection not reused.
        let bothHead = try response("200 OK", [("Transfer-Encoding", "chunked"), ("Content-Length", "9")])
        #expect(bothHead.framing == .chunked && !bothHead.keepAlive)
        let both = HTTPForwarding.downstreamHead(bothHead, version: .http1_1, keepAlive: true)
        #expect(values(both, "transfer-encoding") == ["chunked"] && values(both, "content-length").isEmpty)
        // Fields a Connection names go, except the framing; hop-by-hop ones go whatever their case;
        // an unknown status keeps its code and reason.
        let named = HTTPForwarding.downstreamHead(
            try response("299 Odd Thing", [("Content-Length", "2"), ("CONNECTION", "X-Drop, Content-Length"), ("x-drop", "1"),
                                           ("Keep-Alive", "timeout=5"), ("Trailer", "x"), ("upgrade", "h2c")]),
            version: .http1_1, keepAlive: false)
        #expect(written(named).line == "HTTP/1.1 299 Odd Thing")
        #expect(written(named).fields.map(\.0) == ["Content-Length", "Connection"] && values(named, "connection") == ["close"])
        let bare = HTTPForwarding.downstreamHead(try response("404", [("Content-Length", "0")]), version: .http1_1, keepAlive: true)
        #expect(written(bare).line == "HTTP/1.1 404 ")
    }
}
