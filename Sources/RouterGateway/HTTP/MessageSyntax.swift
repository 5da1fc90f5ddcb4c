import NIOCore

/// The HTTP/1.1 message syntax both of routergw's parsers read by (RFC 9112), requests from
/// clients (`RequestDecoder`) and responses from targets (`ResponseParser`): lines end in CRLF
/// only, field names are tokens with the colon right after them, values hold no control
/// character, chunk lines are a bounded size and extensions. Nothing looser: a gateway that
/// reads a message differently from the next hop can be made to see two messages in one.
enum MessageSyntax {
    /// Why the bytes are not a message: named for the log and the error page.
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    /// The longest head (start line and fields, or trailers) accepted.
    static let maximumHeadLength = 80 * 1024
    /// The longest chunk-size line, extensions included.
    static let maximumChunkLineLength = 4096

    /// How far a head's end has been looked for: where to go on when more bytes arrive, so
    /// that a head arriving a byte at a time is scanned once, not once a byte (offsets from the
    /// buffer's reader index; start afresh, `HeadScan()`, for each head).
    struct HeadScan {
        var position = 0
        var lineStart = 0
    }

    /// The index just past the CRLF CRLF that ends the head starting at the reader index (past
    /// a lone CRLF when `allowEmpty`: trailers that are empty), checking every line ending on the
    /// way; nil when it has not arrived (`scan` then says where to go on). Throws for a bare CR
    /// or LF, or a head past the limit.
    static func headEnd(_ buffer: ByteBuffer, allowEmpty: Bool, scan: inout HeadScan) throws(Malformed) -> Int? {
        let found: Int? = buffer.withUnsafeReadableBytes { bytes -> Int? in
            var i = scan.position
            var lineStart = scan.lineStart
            defer {
                scan.position = i
                scan.lineStart = lineStart
            }
            while i < bytes.count {
                let byte = bytes[i]
                if byte == 0x0A { return -1 }
                if byte == 0x0D {
                    guard i + 1 < bytes.count else { break }
                    guard bytes[i + 1] == 0x0A else { return -2 }
                    if i == lineStart && (allowEmpty || lineStart > 0) {
                        guard i + 2 <= maximumHeadLength else { break }
                        return i + 2
                    }
                    i += 2
                    lineStart = i
                    continue
                }
                i += 1
            }
            return bytes.count > maximumHeadLength ? -3 : nil
        }
        switch found {
        case nil: return nil
        case -1: throw Malformed(description: "a line ends in a bare LF")
        case -2: throw Malformed(description: "a bare CR")
        case -3: throw Malformed(description: "the head is longer than \(maximumHeadLength) bytes")
        case let end?:
            scan = HeadScan()
            return buffer.readerIndex + end
        }
    }

    /// A chunk line: up to CRLF (consumed), at most `limit` bytes; nil until it has arrived.
    static func readLine(_ buffer: inout ByteBuffer, limit: Int = maximumChunkLineLength,
                         what: String = "chunk line") throws(Malformed) -> ByteBuffer? {
        let found: Int = buffer.withUnsafeReadableBytes { bytes -> Int in
            for i in 0..<min(bytes.count, limit + 2) {
                if bytes[i] == 0x0A { return -2 }
                if bytes[i] == 0x0D {
                    guard i + 1 < bytes.count else { return -1 }
                    guard bytes[i + 1] == 0x0A else { return -3 }
                    return i
                }
            }
            return bytes.count > limit ? -4 : -1
        }
        switch found {
        case -1: return nil
        case -2: throw Malformed(description: "a \(what) ends in a bare LF")
        case -3: throw Malformed(description: "a bare CR in a \(what)")
        case -4: throw Malformed(description: "a \(what) is longer than \(limit) bytes")
        default:
            let line = buffer.readSlice(length: found)!
            buffer.moveReaderIndex(forwardBy: 2)
            return line
        }
    }

    /// The size of a chunk line: 1–15 hex digits, then nothing or `;` and extensions of
    /// visible ASCII, spaces and tabs.
    static func chunkSize(_ line: ByteBuffer) throws(Malformed) -> Int {
        let size: Int = line.withUnsafeReadableBytes { bytes -> Int in
            var size = 0
            var digits = 0
            var i = 0
            while i < bytes.count, let value = hexValue(bytes[i]) {
                size = size << 4 | value
                digits += 1
                i += 1
            }
            guard digits > 0, digits <= 15 else { return -1 }
            if i < bytes.count {
                guard bytes[i] == UInt8(ascii: ";") || bytes[i] == 0x20 || bytes[i] == 0x09,
                      bytes[i...].allSatisfy(isValueByte) else { return -2 }
            }
            return size
        }
        switch size {
        case -1: throw Malformed(description: "a chunk size is not 1 to 15 hex digits")
        case -2: throw Malformed(description: "a chunk line holds more than a size and extensions")
        default: return size
        }
    }

    /// Each field line of `block` (lines ending in CRLF, up to an empty one or the end): its
    /// name and its value without the whitespace around it, as offsets into `bytes`; or why a
    /// line is not a field (obs-fold, whitespace before the colon, a control character).
    static func forEachField(_ bytes: UnsafeRawBufferPointer,
                             _ body: (_ line: Range<Int>, _ name: Range<Int>, _ value: Range<Int>) -> Void) throws(Malformed) {
        var start = 0
        while start < bytes.count {
            guard let cr = bytes[start...].firstIndex(of: 0x0D) else { break }
            let line = start..<cr
            start = cr + 2
            if line.isEmpty { break }
            let first = bytes[line.lowerBound]
            guard first != 0x20, first != 0x09 else {
                throw Malformed(description: "a field is folded onto the next line (obs-fold)")
            }
            guard let colon = bytes[line].firstIndex(of: UInt8(ascii: ":")), colon > line.lowerBound,
                  bytes[line.lowerBound..<colon].allSatisfy(isTokenByte) else {
                throw Malformed(description: "a field has no name, or whitespace before its colon")
            }
            var valueStart = colon + 1
            var valueEnd = line.upperBound
            while valueStart < valueEnd, bytes[valueStart] == 0x20 || bytes[valueStart] == 0x09 { valueStart += 1 }
            while valueEnd > valueStart, bytes[valueEnd - 1] == 0x20 || bytes[valueEnd - 1] == 0x09 { valueEnd -= 1 }
            guard bytes[valueStart..<valueEnd].allSatisfy(isValueByte) else {
                throw Malformed(description: "a field value holds a control character")
            }
            body(line.lowerBound..<cr + 2, line.lowerBound..<colon, valueStart..<valueEnd)
        }
    }

    /// `forEachField` over the readable bytes of `block`; `body` gets the bytes with each field.
    static func forEachField(in block: ByteBuffer,
                             _ body: (_ bytes: UnsafeRawBufferPointer, _ line: Range<Int>, _ name: Range<Int>, _ value: Range<Int>) -> Void)
        throws(Malformed) {
        var failure: Malformed?
        block.withUnsafeReadableBytes { bytes in
            do throws(Malformed) {
                try forEachField(bytes) { body(bytes, $0, $1, $2) }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// Each comma-separated item of a field value, empty ones too, with no array made.
    static func forEachItem(_ value: Slice<UnsafeRawBufferPointer>, _ body: (Slice<UnsafeRawBufferPointer>) -> Void) {
        var start = value.startIndex
        while true {
            let comma = value[start...].firstIndex(of: UInt8(ascii: ",")) ?? value.endIndex
            body(value[start..<comma])
            guard comma < value.endIndex else { return }
            start = comma + 1
        }
    }

    /// `bytes` without the whitespace (SP, HTAB) around them.
    static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        var start = bytes.startIndex, end = bytes.endIndex
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return bytes[start..<end]
    }

    /// A byte a field value or a chunk extension may hold: HTAB, SP, visible ASCII, obs-text.
    static func isValueByte(_ byte: UInt8) -> Bool {
        byte == 0x09 || byte >= 0x20 && byte != 0x7F
    }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }

    /// RFC 9110 §5.6.2 tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }

    /// A chunked body being read (RFC 9112 §7.1), the same for requests and responses: each
    /// chunk's bytes as they arrive, then the trailer section. Chunk lines and trailers are
    /// bounded; chunk data must end where its size says.
    struct ChunkedBody {
        enum Event {
            /// Bytes of a chunk's data.
            case data(ByteBuffer)
            /// The trailer section after the last chunk: its field lines, each with its CRLF
            /// (empty when there are none); the empty line that ends the body is consumed.
            case trailers(ByteBuffer)
        }

        private enum State {
            case line
            case data(remaining: Int)
            case dataEnd
            case trailers
        }

        private var state = State.line
        private var scan = HeadScan()

        /// The next bytes of the body, or its trailer section (the body is then over); nil
        /// until more bytes arrive.
        mutating func next(_ buffer: inout ByteBuffer) throws(Malformed) -> Event? {
            while true {
                switch state {
                case .line:
                    guard let line = try readLine(&buffer) else { return nil }
                    let size = try chunkSize(line)
                    state = size == 0 ? .trailers : .data(remaining: size)
                case .data(let remaining):
                    guard buffer.readableBytes > 0 else { return nil }
                    let slice = buffer.readSlice(length: min(remaining, buffer.readableBytes))!
                    state = remaining == slice.readableBytes ? .dataEnd : .data(remaining: remaining - slice.readableBytes)
                    return .data(slice)
                case .dataEnd:
                    guard buffer.readableBytes >= 2 else { return nil }
                    guard buffer.readInteger(as: UInt16.self) == 0x0D0A else {
                        throw Malformed(description: "chunk data longer than its size")
                    }
                    state = .line
                case .trailers:
                    guard let end = try headEnd(buffer, allowEmpty: true, scan: &scan) else { return nil }
                    var block = buffer.readSlice(length: end - buffer.readerIndex)!
                    block.moveWriterIndex(to: block.writerIndex - 2)  // the empty line
                    try forEachField(in: block) { _, _, _, _ in }
                    state = .line
                    return .trailers(block)
                }
            }
        }
    }
}

extension ByteBuffer {
    /// Adds what a channel read to what was left unread: the read's buffer itself when nothing
    /// was left (no copy).
    mutating func accumulate(_ read: ByteBuffer) {
        if readableBytes == 0 {
            self = read
        } else {
            var read = read
            writeBuffer(&read)
        }
    }
}
