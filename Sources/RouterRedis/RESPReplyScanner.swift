/// Finds where a RESP2 reply ends without building it, going on from where the last call
/// stopped: a reply that arrives in many reads (a page of thousands of log entries) is walked
/// once in all, and parsed (`RESPParser`) once it is whole. Without it, every read would parse
/// the reply from its start again, allocating every value on the way: quadratic in the reply.
///
/// It checks what it walks as the parser would (type bytes, lengths, CRLF, the parser's
/// limits), so a reply it calls whole parses; it throws for input that is not RESP2.
/// Hand-written, like the rest of this module.
struct RESPReplyScanner {
    /// The limits it enforces: the parser's.
    let limits: RESPParser
    /// How far the reply has been walked: the first byte not yet accounted for.
    private var offset = 0
    /// For each array open at `offset`, outermost first, how many of its values are still to
    /// come; empty before a reply begins.
    private var open: [Int] = []

    init(limits: RESPParser) {
        self.limits = limits
    }

    /// The length of the reply at the start of `bytes`, or nil while it is incomplete (call
    /// again with the same bytes and more after them). After a length is returned the scanner
    /// starts on the next reply, whose first byte is `bytes[length]`.
    mutating func replyLength(in bytes: UnsafeRawBufferPointer) throws(RESPError) -> Int? {
        if open.isEmpty { (offset, open) = (0, [1]) }
        while let remaining = open.last {
            if remaining == 0 {
                open.removeLast()
                continue
            }
            guard offset < bytes.count else { return nil }
            let type = bytes[offset]
            guard let line = try RESPParser.line(bytes, from: offset + 1) else { return nil }
            let text = UnsafeRawBufferPointer(rebasing: bytes[(offset + 1)..<line.end])
            switch type {
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                offset = line.next
            case UInt8(ascii: ":"):
                _ = try RESPParser.integer(text)
                offset = line.next
            case UInt8(ascii: "$"):
                let length = try RESPParser.integer(text)
                if length == -1 {
                    offset = line.next
                } else {
                    guard length >= 0 else { throw RESPError("bulk string length \(length)") }
                    guard length <= limits.maximumBulkLength else {
                        throw RESPError("bulk string of \(length) bytes, over the limit of \(limits.maximumBulkLength)")
                    }
                    let end = line.next + Int(length)
                    guard end + 2 <= bytes.count else { return nil }
                    guard bytes[end] == 0x0D, bytes[end + 1] == 0x0A else {
                        throw RESPError("bulk string of \(length) bytes not followed by CRLF")
                    }
                    offset = end + 2
                }
            case UInt8(ascii: "*"):
                let count = try RESPParser.integer(text)
                guard count >= -1 else { throw RESPError("array length \(count)") }
                guard count <= limits.maximumArrayLength else {
                    throw RESPError("array of \(count) elements, over the limit of \(limits.maximumArrayLength)")
                }
                // The depth the parser counts: the arrays this one is in.
                if count >= 0, open.count - 1 >= limits.maximumDepth {
                    throw RESPError("arrays nested deeper than \(limits.maximumDepth)")
                }
                offset = line.next
                open[open.count - 1] -= 1
                if count > 0 { open.append(Int(count)) }
                continue
            default:
                throw RESPError("unknown reply type byte 0x\(String(type, radix: 16))")
            }
            open[open.count - 1] -= 1
        }
        defer { offset = 0 }
        return offset
    }
}
