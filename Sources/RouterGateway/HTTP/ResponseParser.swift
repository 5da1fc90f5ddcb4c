import NIOCore
import NIOHTTP1

/// A target's responses read from bytes by RFC 9112, as a value: bytes in, events out, the
/// connection's handler (`UpstreamHandler`) doing what they say. Written here rather than
/// taken from SwiftNIO's decoder so that a head goes back to the client as the bytes it came
/// in — its field lines copied, not made into strings and written again — and so that the
/// response side frames by rules stated in one place, as strictly as the request side
/// (`MessageSyntax`).
///
/// - One response per request, in order: `expectResponse(to:)` names each request's method
///   before it is sent (the response to a HEAD has no body). Bytes with no request outstanding
///   are an error.
/// - Status line: `HTTP/1.1` or `HTTP/1.0`, a space, three digits, then nothing or a space and
///   a reason of visible ASCII, spaces, tabs and obs-text. Interim responses (1xx but 101) are
///   read and dropped.
/// - Fields as `MessageSyntax` reads them: no obs-fold, no whitespace before a colon, no
///   control character; the head at most `MessageSyntax.maximumHeadLength` bytes.
/// - Body (§6.3): none for HEAD, 1xx, 204 and 304; chunked when `Transfer-Encoding` is
///   `chunked` alone, overriding a `Content-Length` (the connection is then not reused); any
///   other transfer coding is an error (the gateway re-frames bodies and would drop it); else
///   `Content-Length` (one number, or a list of one number repeated; anything else is an
///   error); else to the close.
/// - After a 101, nothing more is parsed: the bytes that follow belong to the new protocol.
struct ResponseParser {
    typealias Malformed = MessageSyntax.Malformed

    /// How a response's body is delimited.
    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
        /// The body runs until the target closes the connection.
        case untilClose
    }

    /// A response head as the target sent it.
    struct Head {
        var version: HTTPVersion
        var status: Int
        /// The reason phrase, as sent (possibly empty).
        var reason: ByteBuffer
        /// The field lines, each `name: value` and CRLF, as sent.
        var fields: ByteBuffer
        var framing: Framing
        /// The target keeps the connection open after this response.
        var keepAlive: Bool
        /// The fields a `Connection` field names besides `close` and `keep-alive`, lower case.
        var connectionNames: [String]
        /// The protocol a 101 switches to (its `Upgrade` field).
        var upgrade: String?
        /// `Content-Length` and `Transfer-Encoding` were both present.
        var bothFramings: Bool
    }

    enum Event {
        case head(Head)
        case body(ByteBuffer)
        /// The response is over; a chunked one's trailer field lines, as sent, if it had any.
        case end(trailers: ByteBuffer?)
    }

    private enum State {
        /// No request outstanding.
        case idle
        /// Waiting for the head of the response to a request with this method.
        case head(HTTPMethod)
        case body(remaining: Int)
        case untilClose
        case chunked(MessageSyntax.ChunkedBody)
        /// The head said there is no body: the end comes next.
        case ending
        /// After a 101 or an error: nothing more is parsed.
        case stopped
    }

    private var state = State.idle
    /// How far the head being read has been scanned.
    private var scan = MessageSyntax.HeadScan()
    private var switching = false

    /// Nothing is outstanding: the last response was read to its end (or none was asked for).
    var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    /// A request with `method` goes out: its response comes next. Ignored unless the previous
    /// response was read to its end (a connection whose response was cut is not reused).
    mutating func expectResponse(to method: HTTPMethod) {
        if case .idle = state { state = .head(method) }
    }

    /// The next event from the front of `buffer` (what it used is consumed), or nil until more
    /// bytes arrive. After a 101 it returns nil and leaves the bytes that follow in `buffer`.
    mutating func next(_ buffer: inout ByteBuffer) throws(Malformed) -> Event? {
        do {
            return try step(&buffer)
        } catch {
            state = .stopped
            throw error
        }
    }

    /// The target closed its side: the end of a body that ran to the close, else nothing
    /// (between responses) or an error (inside one).
    mutating func inputEnded() throws(Malformed) -> Event? {
        switch state {
        case .untilClose:
            state = .stopped
            return .end(trailers: nil)
        case .idle, .stopped:
            state = .stopped
            return nil
        case .head:
            state = .stopped
            throw Malformed(description: "the service closed the connection without answering")
        default:
            state = .stopped
            throw Malformed(description: "the service closed the connection inside a response")
        }
    }

    private mutating func step(_ buffer: inout ByteBuffer) throws(Malformed) -> Event? {
        switch state {
        case .stopped:
            return nil
        case .idle:
            guard buffer.readableBytes == 0 else { throw Malformed(description: "the service sent bytes nobody asked for") }
            return nil
        case .head(let method):
            while true {
                guard let end = try MessageSyntax.headEnd(buffer, allowEmpty: false, scan: &scan) else { return nil }
                var block = buffer.readSlice(length: end - buffer.readerIndex)!
                let head = try Self.parseHead(&block, method: method)
                if head.status >= 100 && head.status < 200 && head.status != 101 { continue }  // interim: dropped
                switch head.framing {
                case .none: state = .ending
                case .length(0): state = .ending
                case .length(let n): state = .body(remaining: n)
                case .chunked: state = .chunked(MessageSyntax.ChunkedBody())
                case .untilClose: state = .untilClose
                }
                switching = head.status == 101
                return .head(head)
            }
        case .ending:
            return finish(trailers: nil)
        case .body(let remaining):
            guard buffer.readableBytes > 0 else { return nil }
            let slice = buffer.readSlice(length: min(remaining, buffer.readableBytes))!
            state = remaining == slice.readableBytes ? .ending : .body(remaining: remaining - slice.readableBytes)
            return .body(slice)
        case .untilClose:
            guard buffer.readableBytes > 0 else { return nil }
            return .body(buffer.readSlice(length: buffer.readableBytes)!)
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
                return finish(trailers: block.readableBytes > 0 ? block : nil)
            }
        }
    }

    private mutating func finish(trailers: ByteBuffer?) -> Event {
        state = switching ? .stopped : .idle
        return .end(trailers: trailers)
    }

    /// The head in `block` (status line, fields, the empty line), for a request with `method`.
    static func parseHead(_ block: inout ByteBuffer, method: HTTPMethod) throws(Malformed) -> Head {
        let lineEnd = block.withUnsafeReadableBytes { $0.firstIndex(of: 0x0D)! }
        var line = block.readSlice(length: lineEnd)!
        block.moveReaderIndex(forwardBy: 2)
        block.moveWriterIndex(to: block.writerIndex - 2)  // the empty line
        // `HTTP/1.x SP 3DIGIT [SP reason]`.
        let start: (HTTPVersion, Int)? = line.withUnsafeReadableBytes { bytes in
            guard bytes.count >= 12, bytes[..<7].elementsEqual("HTTP/1.".utf8), bytes[7] == 0x30 || bytes[7] == 0x31,
                  bytes[8] == 0x20, bytes[9...11].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  bytes.count == 12 || bytes[12] == 0x20, bytes.dropFirst(13).allSatisfy(MessageSyntax.isValueByte) else { return nil }
            let status = Int(bytes[9] - 0x30) * 100 + Int(bytes[10] - 0x30) * 10 + Int(bytes[11] - 0x30)
            return (bytes[7] == 0x31 ? .http1_1 : .http1_0, status)
        }
        guard let (version, status) = start, status >= 100 else {
            throw Malformed(description: "the status line is not HTTP/1.1 or HTTP/1.0, a code and a reason")
        }
        line.moveReaderIndex(forwardBy: min(13, line.readableBytes))
        var head = Head(version: version, status: status, reason: line, fields: block, framing: .none, keepAlive: version == .http1_1,
                        connectionNames: [], upgrade: nil, bothFramings: false)
        var length: Int?
        var lengthRefused = false
        var codings: [String] = []
        var close = false, keepAlive = false
        try MessageSyntax.forEachField(in: block) { bytes, _, name, value in
            let field = bytes[name]
            switch name.count {
            case 14 where HeaderNames.equal(field, "content-length"):
                // One number, or a list of that number repeated (RFC 9110 §8.6).
                MessageSyntax.forEachItem(bytes[value]) { item in
                    let digits = MessageSyntax.trimmed(item)
                    guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                        lengthRefused = true
                        return
                    }
                    let number = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
                    if let known = length, known != number { lengthRefused = true }
                    length = number
                }
            case 17 where HeaderNames.equal(field, "transfer-encoding"):
                MessageSyntax.forEachItem(bytes[value]) { item in
                    codings.append(String(decoding: MessageSyntax.trimmed(item), as: UTF8.self))
                }
            case 10 where HeaderNames.equal(field, "connection"):
                MessageSyntax.forEachItem(bytes[value]) { item in
                    let token = MessageSyntax.trimmed(item)
                    if HeaderNames.equal(token, "close") {
                        close = true
                    } else if HeaderNames.equal(token, "keep-alive") {
                        keepAlive = true
                    } else if !token.isEmpty {
                        let name = String(decoding: token, as: UTF8.self).lowercased()
                        if !HeaderNames.isHopByHop(name) && !HeaderNames.protected.contains(name) { head.connectionNames.append(name) }
                    }
                }
            case 7 where status == 101 && HeaderNames.equal(field, "upgrade"):
                head.upgrade = String(decoding: bytes[value], as: UTF8.self)
            default:
                break
            }
        }
        head.keepAlive = !close && (version == .http1_1 || keepAlive)
        head.bothFramings = length != nil && !codings.isEmpty
        if method == .HEAD || status < 200 || status == 204 || status == 304 {
            head.framing = .none
        } else if !codings.isEmpty {
            // Only chunked: the gateway re-frames the body, and a coding it dropped from the
            // field (gzip, say) would reach the client undeclared (HAProxy refuses them too).
            guard codings.count == 1, HeaderNames.equal(codings[0], "chunked") else {
                throw Malformed(description: "the response's Transfer-Encoding is not chunked alone")
            }
            head.framing = .chunked
            if head.bothFramings { head.keepAlive = false }
        } else if lengthRefused {
            throw Malformed(description: "the response's Content-Length is not one decimal number")
        } else if let length {
            head.framing = .length(length)
        } else {
            head.framing = .untilClose
        }
        if head.framing == .untilClose { head.keepAlive = false }
        return head
    }
}
