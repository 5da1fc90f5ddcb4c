import NIOCore
import NIOHTTP1
@testable import RouterGateway
import Testing

/// The target's side read by routergw's own parser: framing by RFC 9112 §6.3, interim
/// responses dropped, a 101's leftovers kept, and hostile responses refused with a reason.
@Suite("routergw: response parser")
struct ResponseParserTests {
    /// What the parser makes of `text` answering requests with `methods`, fed `step` bytes at
    /// a time (0: all at once): each event as text, `end` when the target closed after it.
    func events(_ text: String, _ methods: [HTTPMethod] = [.GET], step: Int = 0, closed: Bool = false) throws -> [String] {
        var parser = ResponseParser()
        var methods = methods[...]
        if let first = methods.popFirst() { parser.expectResponse(to: first) }
        let all = Array(text.utf8)
        var buffer = ByteBuffer()
        var out: [String] = []
        var offset = 0
        repeat {
            let next = step == 0 ? all.count : min(all.count, offset + step)
            buffer.writeBytes(all[offset..<next])
            offset = next
            while let event = try parser.next(&buffer) {
                switch event {
                case .head(let head):
                    out.append("head \(head.status) \(head.framing) keepAlive=\(head.keepAlive)")
                case .body(let bytes):
                    if case .some(let last) = out.last, last.hasPrefix("body ") {
                        out[out.count - 1] += String(buffer: bytes)
                    } else {
                        out.append("body " + String(buffer: bytes))
                    }
                case .end(let trailers):
                    out.append("end" + (trailers.map { " " + String(buffer: $0).replacingOccurrences(of: "\r\n", with: "|") } ?? ""))
                    if let method = methods.popFirst() { parser.expectResponse(to: method) }
                }
            }
        } while offset < all.count
        if closed, let event = try parser.inputEnded(), case .end = event { out.append("end at close") }
        if buffer.readableBytes > 0 { out.append("left " + String(buffer: buffer)) }
        return out
    }

    @Test func responsesAreFramedByRFC9112() throws {
        let sized = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n"
        for step in [0, 1, 3] {
            #expect(try events(sized + sized, [.GET, .GET], step: step)
                == ["head 200 length(3) keepAlive=true", "body abc", "end", "head 200 length(3) keepAlive=true", "body abc", "end"])
            #expect(try events(chunked, step: step) == ["head 200 chunked keepAlive=true", "body abcde", "end X-T: 1|"])
        }
        // To a HEAD, and 204 and 304: no body whatever the fields say.
        #expect(try events("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n" + sized, [.HEAD, .GET])
            == ["head 200 none keepAlive=true", "end", "head 200 length(3) keepAlive=true", "body abc", "end"])
        #expect(try events("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n") == ["head 304 none keepAlive=true", "end"])
        // Interim responses are dropped; a 101 stops the parser, leaving the new protocol's bytes.
        #expect(try events("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + sized)
            == ["head 200 length(3) keepAlive=true", "body abc", "end"])
        #expect(try events("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\u{81}\u{01}x")
            == ["head 101 none keepAlive=true", "end", "left \u{81}\u{01}x"])
        // No framing: the body runs to the close; the connection is not kept.
        #expect(try events("HTTP/1.1 200 OK\r\n\r\nabc", closed: true) == ["head 200 untilClose keepAlive=false", "body abc", "end at close"])
        // Keep-alive by version and Connection; a repeated equal length is one length.
        #expect(try events("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n") == ["head 200 length(0) keepAlive=false", "end"])
        #expect(try events("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n") == ["head 200 length(0) keepAlive=true", "end"])
        #expect(try events("HTTP/1.1 200 OK\r\nConnection: x, close\r\nContent-Length: 1, 1\r\nContent-Length: 1\r\n\r\na")
            == ["head 200 length(1) keepAlive=false", "body a", "end"])
        // Both framings: the chunks frame it, and the connection is not reused.
        #expect(try events("HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n")
            == ["head 200 chunked keepAlive=false", "body a", "end"])
    }

    /// Responses no RFC 9112 recipient can frame one way only, or that are not HTTP/1.1 at all:
    /// refused with a reason (the client gets a 502, the connection is not reused).
    static let hostile: [(String, String)] = [
        ("bare LF in the head", "HTTP/1.1 200 OK\nContent-Length: 0\n\n"),
        ("bare CR", "HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n"),
        ("obs-fold", "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n"),
        ("space before the colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n"),
        ("NUL in a value", "HTTP/1.1 200 OK\r\nX-A: a\u{0}b\r\nContent-Length: 0\r\n\r\n"),
        ("HTTP/2 status line", "HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n"),
        ("HTTP/1.2", "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n"),
        ("two-digit status", "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n"),
        ("status without a space", "HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n"),
        ("status 099", "HTTP/1.1 099 X\r\nContent-Length: 0\r\n\r\n"),
        ("lowercase version", "http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        ("different lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
        ("length list", "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nab"),
        ("signed length", "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\na"),
        ("hex length", "HTTP/1.1 200 OK\r\nContent-Length: 0x1\r\n\r\na"),
        ("huge length", "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000000\r\n\r\na"),
        ("empty length", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n"),
        ("chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"),
        ("gzip then chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
        ("gzip alone", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc"),
        ("chunked not last", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"),
        ("chunked in two fields", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("chunk size overflow", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000001\r\na\r\n0\r\n\r\n"),
        ("chunk size not hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\na\r\n0\r\n\r\n"),
        ("chunk data too long", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n"),
        ("chunk line bare LF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\na\r\n0\r\n\r\n"),
        ("chunk extension too long", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "x", count: 5000) + "\r\na\r\n0\r\n\r\n"),
        ("obs-fold in a trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n 2\r\n\r\n"),
        ("head too long", "HTTP/1.1 200 OK\r\nX-A: " + String(repeating: "a", count: 90_000) + "\r\n\r\n"),
        ("a second response nobody asked for", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]

    @Test(arguments: hostile.map(\.0))
    func hostileResponsesAreRefusedWithAReason(_ name: String) throws {
        let text = Self.hostile.first { $0.0 == name }!.1
        for step in [0, 1] {
            #expect(throws: ResponseParser.Malformed.self, "\(name) fed \(step == 0 ? "whole" : "a byte at a time")") {
                try events(text, step: step)
            }
        }
    }

    @Test func aCloseInsideAResponseIsAnErrorAndBetweenResponsesIsNot() throws {
        #expect(throws: ResponseParser.Malformed.self) { try events("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", closed: true) }
        #expect(throws: ResponseParser.Malformed.self) { try events("HTTP/1.1 200 OK\r\nContent-", closed: true) }
        #expect(throws: ResponseParser.Malformed.self) { try events("", closed: true) }
        #expect(try events("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", closed: true) == ["head 200 length(1) keepAlive=true", "body a", "end"])
    }
}
