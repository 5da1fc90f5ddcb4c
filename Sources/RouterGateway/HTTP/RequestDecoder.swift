import NIOCore
import NIOHTTP1

/// routergw's HTTP/1.1 request parser, as a value: bytes in, `HTTPServerRequestPart`s out
/// (`HTTPProxyHandler` feeds it what the client sends and acts on each part), by RFC 9112
/// and nothing looser. Written here, not SwiftNIO's `HTTPRequestDecoder` (llhttp), because a
/// gateway must refuse what that decoder lets through or cannot bound: chunk extensions of any
/// length, and a body framed by `Transfer-Encoding` codings the gateway does not apply; and
/// because the framing it parses by must be the framing `RequestRules` decided, with no second
/// opinion.
///
/// - Lines end in CRLF only: a bare LF or a bare CR anywhere in a head, a chunk line or a
///   trailer is an error. Empty lines before a request line are skipped (§2.2).
/// - Request line: a method token, one space, a target of visible ASCII, one space,
///   `HTTP/1.1` or `HTTP/1.0`.
/// - Fields: a token, a colon right after it (no whitespace before the colon), a value of
///   visible ASCII, spaces, tabs and obs-text; no obs-fold (a line that starts with a space or
///   tab), no NUL or other control character. The head, trailers included, is at most
///   `maximumHeadLength` bytes.
/// - Body: as `RequestRules.framing` says; a refused framing stops the parser after the head
///   (the handler answers and closes). Chunk sizes are at most 15 hex digits; a chunk line,
///   extensions included, is at most `maximumChunkLineLength` bytes.
/// - After a request that asks to switch protocols, nothing more is parsed: the bytes that
///   follow belong to the new protocol and go on as they are when the decoder is removed.
struct RequestDecoder {

    static let maximumHeadLength = MessageSyntax.maximumHeadLength
    static let maximumChunkLineLength = MessageSyntax.maximumChunkLineLength

    /// Why the bytes are not a request; the connection is answered 400 and closed.
    typealias Malformed = MessageSyntax.Malformed

    enum State {
        case head
        case body(remaining: Int)
        case chunked(MessageSyntax.ChunkedBody)
        /// The message is over: its end comes next.
        case ending(trailers: HTTPHeaders?)
        /// A protocol switch was asked for, the framing was refused, or the bytes were not a
        /// request: nothing more is parsed.
        case stopped
    }

    private var state = State.head
    /// How far the head being read has been scanned.
    private var scan = MessageSyntax.HeadScan()
    /// The request being parsed asks to switch protocols: parsing stops after it.
    private var switching = false

    /// Nothing more will be parsed, and what follows is not a new protocol's: the bytes the
    /// client still sends can be dropped.
    var isDone: Bool {
        if case .stopped = state { return !switching }
        return false
    }

    /// The next part from the front of `buffer` (what it used is consumed), or nil until more
    /// bytes arrive. After a request that switches protocols, or a refused framing, it returns
    /// nil and leaves the bytes that follow in `buffer`; after an error, nothing more.
    mutating func next(_ buffer: inout ByteBuffer) throws(Malformed) -> HTTPServerRequestPart? {
        do {
            return try step(&buffer)
        } catch {
            state = .stopped
            throw error
        }
    }

    /// The client closed its side with `buffer` unread: nothing is wrong between requests (or
    /// once parsing stopped); inside one, the request was cut short.
    mutating func inputEnded(_ buffer: ByteBuffer) throws(Malformed) {
        switch state {
        case .stopped:
            return
        case .head where buffer.readableBytes == 0:
            state = .stopped
        default:
            state = .stopped
            throw Malformed(description: "the connection ended inside a request")
        }
    }

    private mutating func step(_ buffer: inout ByteBuffer) throws(Malformed) -> HTTPServerRequestPart? {
        switch state {
        case .stopped:
            return nil
        case .ending(let trailers):
            state = switching ? .stopped : .head
            return .end(trailers)
        case .head:
            guard let (head, framing, upgrade) = try parseHead(&buffer) else { return nil }
            switching = upgrade
            switch framing {
            case nil: state = .stopped
            case .some(.none), .some(.length(0)): state = .ending(trailers: nil)
            case .some(.length(let n)): state = .body(remaining: n)
            case .some(.chunked): state = .chunked(MessageSyntax.ChunkedBody())
            }
            return .head(head)
        case .body(let remaining):
            guard buffer.readableBytes > 0 else { return nil }
            let slice = buffer.readSlice(length: min(remaining, buffer.readableBytes))!
            state = remaining == slice.readableBytes ? .ending(trailers: nil) : .body(remaining: remaining - slice.readableBytes)
            return .body(slice)
        case .chunked(var body):
            guard let event = try body.next(&buffer) else {
                state = .chunked(body)
                return nil
            }
            switch event {
            case .data(let bytes):
                state = .chunked(body)
                return .body(bytes)
            case .trailers(let block):
                var trailers = HTTPHeaders()
                try Self.parseFields(block, into: &trailers)
                state = switching ? .stopped : .head
                return .end(trailers.isEmpty ? nil : trailers)
            }
        }
    }

    // MARK: Heads

    /// The head at the front of `buffer` (consumed), its framing (nil: refused) and whether it
    /// asks to switch protocols; nil when it has not all arrived.
    private mutating func parseHead(_ buffer: inout ByteBuffer) throws(Malformed) -> (HTTPRequestHead, BodyFraming?, Bool)? {
        // Empty lines before the request line are skipped.
        while buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
            scan = MessageSyntax.HeadScan()
        }
        guard let end = try MessageSyntax.headEnd(buffer, allowEmpty: false, scan: &scan) else { return nil }
        var block = buffer.readSlice(length: end - buffer.readerIndex)!
        let lineEnd = block.withUnsafeReadableBytes { $0.firstIndex(of: 0x0D)! }
        let requestLine = block.readSlice(length: lineEnd)!
        block.moveReaderIndex(forwardBy: 2)
        let (method, uri, version) = try Self.parseRequestLine(requestLine)
        var headers = HTTPHeaders()
        try Self.parseFields(block, into: &headers)
        let head = HTTPRequestHead(version: version, method: method, uri: uri, headers: headers)
        let framing: BodyFraming?
        do {
            framing = try RequestRules.framing(of: head)
        } catch {
            framing = nil
        }
        return (head, framing, HTTPForwarding.upgrade(of: head) != nil)
    }

    /// `method SP request-target SP HTTP-version`.
    static func parseRequestLine(_ line: ByteBuffer) throws(Malformed) -> (HTTPMethod, String, HTTPVersion) {
        let parsed = line.withUnsafeReadableBytes { bytes -> Result<(HTTPMethod, String, HTTPVersion), Malformed> in
            guard let firstSpace = bytes.firstIndex(of: 0x20), firstSpace > 0,
                  bytes[..<firstSpace].allSatisfy(Self.isTokenByte) else {
                return .failure(Malformed(description: "the request line has no method"))
            }
            guard let secondSpace = bytes[(firstSpace + 1)...].firstIndex(of: 0x20), secondSpace > firstSpace + 1,
                  bytes[(firstSpace + 1)..<secondSpace].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                return .failure(Malformed(description: "the request line has no target"))
            }
            let version = bytes[(secondSpace + 1)...]
            let httpVersion: HTTPVersion
            if version.elementsEqual("HTTP/1.1".utf8) {
                httpVersion = .http1_1
            } else if version.elementsEqual("HTTP/1.0".utf8) {
                httpVersion = .http1_0
            } else {
                return .failure(Malformed(description: "the request is not HTTP/1.1 or HTTP/1.0"))
            }
            let method = HTTPMethod(rawValue: String(decoding: bytes[..<firstSpace], as: UTF8.self))
            let target = String(decoding: bytes[(firstSpace + 1)..<secondSpace], as: UTF8.self)
            return .success((method, target, httpVersion))
        }
        return try parsed.get()
    }

    /// Field lines, each ending in CRLF, into `headers`.
    static func parseFields(_ block: ByteBuffer, into headers: inout HTTPHeaders) throws(Malformed) {
        try MessageSyntax.forEachField(in: block) { bytes, _, name, value in
            headers.add(name: String(decoding: bytes[name], as: UTF8.self), value: String(decoding: bytes[value], as: UTF8.self))
        }
    }

    static func isTokenByte(_ byte: UInt8) -> Bool { MessageSyntax.isTokenByte(byte) }
}
