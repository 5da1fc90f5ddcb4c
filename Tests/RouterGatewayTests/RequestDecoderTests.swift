import NIOCore
import NIOHTTP1
@testable import RouterGateway
import Testing

/// routergw's request parser on its own.
@Suite("routergw: request decoder")
struct RequestDecoderTests {
    /// The parts the decoder reads from `bytes` (fed `step` bytes at a time; 0: all at once),
    /// what it leaves unread, and what it threw.
    func decode(_ bytes: String, then removing: Bool = false, step: Int = 0) throws -> (parts: [String], leftover: String, error: (any Error)?) {
        var decoder = RequestDecoder()
        var buffer = ByteBuffer()
        var parts: [String] = []
        var error: (any Error)?
        let all = Array(bytes.utf8)
        var offset = 0
        repeat {
            let next = step == 0 ? all.count : min(all.count, offset + step)
            buffer.writeBytes(all[offset..<next])
            offset = next
            do {
                while let part = try decoder.next(&buffer) {
                    switch part {
                    case .head(let head): parts.append("head \(head.method.rawValue) \(head.uri)")
                    case .body(let body):
                        if case .some(let last) = parts.last, last.hasPrefix("body "), step > 0 {
                            parts[parts.count - 1] = "body \(Int(last.dropFirst(5))! + body.readableBytes)"
                        } else {
                            parts.append("body \(body.readableBytes)")
                        }
                    case .end(let trailers): parts.append("end\(trailers.map { " \($0.count)" } ?? "")")
                    }
                }
            } catch let thrown {
                error = thrown
                break
            }
        } while offset < all.count
        return (parts, removing ? String(buffer: buffer) : "", error)
    }

    @Test func aChunkedBodyWithTrailersIsPassedOnInParts() throws {
        let out = try decode("POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n")
        #expect(out.error == nil)
        #expect(out.parts == ["head POST /a", "body 3", "body 2", "end 1"])
    }

    @Test func anUpgradeRequestWithABodyStopsTheParserAndLeavesTheRestAsBytes() throws {
        let request = "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 2\r\n\r\nhi"
        let out = try decode(request + "NOT HTTP AT ALL", then: true)
        #expect(out.error == nil)
        #expect(out.parts == ["head GET /ws", "body 2", "end"])
        #expect(out.leftover == "NOT HTTP AT ALL", "the new protocol's bytes go on untouched")
    }

    @Test func aRequestArrivingAByteAtATimeReadsAsAWholeOne() throws {
        let request = "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n"
            + "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
        let out = try decode(request, step: 1)
        #expect(out.error == nil)
        #expect(out.parts == ["head POST /a", "body 5", "end 1", "head GET /b", "end"])
    }

    @Test func aConnectionEndingInsideARequestIsAnError() throws {
        var decoder = RequestDecoder()
        var buffer = ByteBuffer(string: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab")
        while try decoder.next(&buffer) != nil {}
        #expect(throws: RequestDecoder.Malformed.self) { try decoder.inputEnded(buffer) }
        var between = RequestDecoder()
        var whole = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        while try between.next(&whole) != nil {}
        try between.inputEnded(whole)
    }

    @Test func whatRFC9112RefusesIsAnError() throws {
        for bad in ["GET / HTTP/1.1\nHost: h\n\n", "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
                    "GET / HTTP/1.1\r\nHost: h\u{01}\r\n\r\n", "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
                    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;\(String(repeating: "e", count: 5000))\r\nhello\r\n0\r\n\r\n",
                    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n"] {
            #expect(try decode(bad).error != nil, "\(bad.debugDescription)")
        }
    }
}
