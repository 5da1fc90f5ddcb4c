@testable import RouterHTTPClient
import Testing

/// The HTTP/1.1 response reader behind `routerctl --url`: each way a body is framed, bytes
/// arriving a few at a time, and responses it must refuse.
@Suite struct ResponseParserTests {
    /// Feeds `text` in pieces of `step` bytes and returns the body and whether it finished.
    func read(_ text: String, step: Int) throws -> (status: Int?, body: String, finished: Bool) {
        var parser = ResponseParser()
        let bytes = Array(text.utf8)
        var body: [UInt8] = []
        var i = 0
        while i < bytes.count {
            body += try parser.feed(bytes[i..<min(i + step, bytes.count)])
            i += step
        }
        return (parser.status, String(decoding: body, as: UTF8.self), parser.isFinished)
    }

    @Test(arguments: [1, 3, 1000])
    func aContentLengthBodyEndsAtItsLength(step: Int) throws {
        let r = try read("HTTP/1.1 201 Created\r\nContent-Length: 5\r\nContent-Type: application/json\r\n\r\nhello", step: step)
        #expect(r.status == 201 && r.body == "hello" && r.finished)
    }

    @Test(arguments: [1, 2, 7, 1000])
    func aChunkedBodyIsJoinedAndEndsAtTheLastChunk(step: Int) throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n"
        let r = try read(text, step: step)
        #expect(r.body == "Wikipedia in \r\n\r\nchunks." && r.finished)
    }

    @Test func aStreamedChunkedBodyIsHandedOverAsItArrives() throws {
        var parser = ResponseParser()
        let first = try parser.feed(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nline1\n\r\n".utf8)[...])
        #expect(String(decoding: first, as: UTF8.self) == "line1\n" && !parser.isFinished)
        let second = try parser.feed(Array("6\r\nline2\n\r\n".utf8)[...])
        #expect(String(decoding: second, as: UTF8.self) == "line2\n" && !parser.isFinished)
    }

    @Test func aBodyWithoutLengthRunsToTheConnectionsEnd() throws {
        var parser = ResponseParser()
        let body = try parser.feed(Array("HTTP/1.1 200 OK\r\n\r\nall of it".utf8)[...])
        #expect(String(decoding: body, as: UTF8.self) == "all of it" && !parser.isFinished && parser.endsAtClose)
        parser.connectionEnded()
        #expect(parser.isFinished && parser.closes)
    }

    @Test func anInterimResponseIsSkipped() throws {
        let r = try read("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", step: 5)
        #expect(r.status == 204 && r.body.isEmpty && r.finished)
    }

    @Test(arguments: ["SSH-2.0-OpenSSH_9.2\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"])
    func aResponseThatIsNotHTTPIsRefused(text: String) {
        #expect(throws: ResponseParser.Malformed.self) { _ = try read(text, step: 1000) }
    }

    @Test func endpointsReadHostPortAndPrefix() throws {
        let plain = try Endpoint("http://127.0.0.1:8080")
        #expect(plain.host == "127.0.0.1" && plain.port == 8080 && !plain.isTLS && plain.pathPrefix.isEmpty)
        let secure = try Endpoint("HTTPS://router.example.com/api/v1/")
        #expect(secure.host == "router.example.com" && secure.port == 443 && secure.isTLS && secure.pathPrefix == "/api/v1")
        let v6 = try Endpoint("http://[::1]:9000")
        #expect(v6.host == "[::1]" && v6.port == 9000 && v6.authority == "[::1]:9000")
        for bad in ["ftp://x", "http://", "http://user:pw@host", "http://host:0", "http://host:99999", "http://host/?q=1"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { _ = try Endpoint(bad) }
        }
    }
}
