import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import RouterGateway
import Testing

/// routergw's request parser on its own, in an EmbeddedChannel.
@Suite("routergw: request decoder")
struct RequestDecoderTests {
    /// The parts a channel's decoder passed on for `bytes`, and what it threw.
    func decode(_ bytes: String, then removing: Bool = false) throws -> (parts: [String], leftover: String, error: (any Error)?) {
        let channel = EmbeddedChannel()
        let handler = ByteToMessageHandler(RequestDecoder())
        try channel.pipeline.syncOperations.addHandler(handler)
        var error: (any Error)?
        do { try channel.writeInbound(ByteBuffer(string: bytes)) } catch let thrown { error = thrown }
        var parts: [String] = []
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
            switch part {
            case .head(let head): parts.append("head \(head.method.rawValue) \(head.uri)")
            case .body(let body): parts.append("body \(body.readableBytes)")
            case .end(let trailers): parts.append("end\(trailers.map { " \($0.count)" } ?? "")")
            }
        }
        var leftover = ""
        if removing {
            channel.pipeline.syncOperations.removeHandler(handler, promise: nil)
            channel.embeddedEventLoop.run()
            while let buffer = try channel.readInbound(as: ByteBuffer.self) { leftover += String(buffer: buffer) }
        }
        _ = try? channel.finish()
        return (parts, leftover, error)
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

    @Test func whatRFC9112RefusesIsAnError() throws {
        for bad in ["GET / HTTP/1.1\nHost: h\n\n", "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
                    "GET / HTTP/1.1\r\nHost: h\u{01}\r\n\r\n", "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
                    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;\(String(repeating: "e", count: 5000))\r\nhello\r\n0\r\n\r\n",
                    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n"] {
            #expect(try decode(bad).error != nil, "\(bad.debugDescription)")
        }
    }
}
