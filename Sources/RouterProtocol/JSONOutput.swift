/// JSON text written straight into memory the caller reserved: the daemon's hot replies (add,
/// lookup, list items) go through this into the socket's outbound buffer with no intermediate
/// array and no growth checks per byte.
///
/// The caller sizes the memory first from the `maximumLength` helpers (each write documents its
/// worst case); every write still checks the end with one comparison and stops the process
/// rather than write past it, so a wrong size is a crash, never memory corruption.
/// Hand-written: `ByteBuffer.write*` and `Array.append` check uniqueness and capacity on every
/// call, which the hot replies cannot afford byte by byte.
package struct JSONOutput {
    package let start: UnsafeMutablePointer<UInt8>
    private var cursor: UnsafeMutablePointer<UInt8>
    private let end: UnsafeMutablePointer<UInt8>

    /// Output into `memory`, from its start.
    package init(_ memory: UnsafeMutableRawBufferPointer) {
        let base = memory.baseAddress!.assumingMemoryBound(to: UInt8.self)
        start = base
        cursor = base
        end = base + memory.count
    }

    /// Bytes written so far.
    package var count: Int { start.distance(to: cursor) }

    /// The worst case of `string(_:)` for `text`: quotes plus six bytes per byte (`\u00XX`).
    @inline(__always)
    package static func maximumLength(ofString text: String) -> Int { 2 + 6 * text.utf8.count }

    /// The worst case of `number(_:)`.
    package static let maximumNumberLength = 20

    @inline(__always)
    private mutating func reserve(_ n: Int) {
        precondition(n <= cursor.distance(to: end), "JSONOutput: reply larger than its reserved size")
    }

    /// ASCII text known to need no escaping: keys, punctuation, field names.
    @inline(__always)
    package mutating func literal(_ text: StaticString) {
        let n = text.utf8CodeUnitCount
        reserve(n)
        cursor.update(from: text.utf8Start, count: n)
        cursor += n
    }

    @inline(__always)
    package mutating func byte(_ b: UInt8) {
        reserve(1)
        cursor.pointee = b
        cursor += 1
    }

    /// Bytes that are already JSON text, or string content that needs no escaping.
    @inline(__always)
    package mutating func bytes(_ raw: UnsafeBufferPointer<UInt8>) {
        reserve(raw.count)
        if let source = raw.baseAddress { cursor.update(from: source, count: raw.count) }
        cursor += raw.count
    }

    /// Calls `body` with room for `maximum` bytes; it returns how many it wrote.
    @inline(__always)
    package mutating func write(maximum: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        reserve(maximum)
        let n = body(cursor)
        precondition(n <= maximum, "JSONOutput: wrote more than announced")
        cursor += n
    }

    /// Writes again `count` bytes written earlier at offset `from` (a repeated value).
    @inline(__always)
    package mutating func copy(from offset: Int, count n: Int) {
        precondition(offset >= 0 && offset + n <= count, "JSONOutput: copy from outside what was written")
        reserve(n)
        cursor.update(from: start + offset, count: n)
        cursor += n
    }

    /// A quoted, escaped JSON string (the same escapes as `JSONWriter.write(string:)`).
    package mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { quoted($0) }
    }

    /// `raw` as a quoted, escaped JSON string.
    package mutating func quoted(_ raw: UnsafeBufferPointer<UInt8>) {
        reserve(2 + raw.count)
        cursor.pointee = UInt8(ascii: "\"")
        cursor += 1
        var plain = true
        for b in raw where b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F {
            plain = false
            break
        }
        if plain {
            if let source = raw.baseAddress { cursor.update(from: source, count: raw.count) }
            cursor += raw.count
        } else {
            for b in raw {
                switch b {
                case UInt8(ascii: "\""): escape(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): escape(UInt8(ascii: "\\"))
                case 0x0A: escape(UInt8(ascii: "n"))
                case 0x0D: escape(UInt8(ascii: "r"))
                case 0x09: escape(UInt8(ascii: "t"))
                case 0x00..<0x20, 0x7F:
                    literal("\\u00")
                    byte(JSONOutput.hex[Int(b >> 4)])
                    byte(JSONOutput.hex[Int(b & 0xF)])
                default:
                    byte(b)
                }
            }
        }
        byte(UInt8(ascii: "\""))
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    @inline(__always)
    private mutating func escape(_ c: UInt8) {
        byte(0x5C)
        byte(c)
    }

    /// A non-negative integer's digits.
    package mutating func number(_ n: UInt64) {
        reserve(JSONOutput.maximumNumberLength)
        if n < 10 {
            cursor.pointee = 0x30 &+ UInt8(truncatingIfNeeded: n)
            cursor += 1
            return
        }
        var digits = 0
        var rest = n
        while rest > 0 { digits += 1; rest /= 10 }
        rest = n
        var p = cursor + digits
        while rest > 0 {
            p -= 1
            p.pointee = 0x30 &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
        cursor += digits
    }
}

extension JSONWriter {
    /// Appends at most `maximumLength` bytes written through a `JSONOutput` (for code shared
    /// between the hot paths, which write into the socket buffer, and everything else).
    package mutating func write(maximumLength: Int, _ body: (inout JSONOutput) -> Void) {
        appendReserved(maximumLength) { raw in
            var out = JSONOutput(raw)
            body(&out)
            return out.count
        }
    }
}
