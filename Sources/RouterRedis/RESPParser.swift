/// Reads RESP2 replies from bytes as they arrive. Hand-written, like the rest of this module:
/// no Swift Redis client is among the packages reachable here, and a reply parser is small.
///
/// `parse` returns nil while a reply is incomplete (read more and call again with the same
/// bytes), and throws for input that is not RESP2 at all: an unknown type byte, a malformed
/// length, a missing CRLF, nesting deeper or bulk strings longer than the limits. After a
/// throw the connection is out of step and must be closed.
public struct RESPParser: Sendable {
    /// The deepest nesting of arrays accepted (Redis's own replies nest a few levels).
    public var maximumDepth = 32
    /// The longest bulk string accepted, in bytes (Redis's own limit is 512 MiB).
    public var maximumBulkLength = 512 << 20
    /// The most elements an array may announce.
    public var maximumArrayLength = 1 << 24

    public init() {}

    /// One reply from the start of `bytes` and how many bytes it took, or nil when `bytes`
    /// hold only the start of one.
    public func parse(_ bytes: UnsafeRawBufferPointer) throws(RESPError) -> (value: RESPValue, consumed: Int)? {
        var index = 0
        guard let value = try value(bytes, &index, depth: 0) else { return nil }
        return (value, index)
    }

    /// Parses a whole reply from `bytes`, for tests and tools: incomplete input is an error.
    public func parse(_ bytes: [UInt8]) throws(RESPError) -> RESPValue {
        let outcome: Result<(value: RESPValue, consumed: Int)?, RESPError> = bytes.withUnsafeBytes { raw in
            Result { () throws(RESPError) in try parse(raw) }
        }
        let result = try outcome.get()
        guard let result else { throw RESPError("the reply is truncated") }
        guard result.consumed == bytes.count else { throw RESPError("\(bytes.count - result.consumed) bytes follow the reply") }
        return result.value
    }

    private func value(_ bytes: UnsafeRawBufferPointer, _ index: inout Int, depth: Int) throws(RESPError) -> RESPValue? {
        guard index < bytes.count else { return nil }
        let type = bytes[index]
        guard let line = try Self.line(bytes, from: index + 1) else { return nil }
        let text = UnsafeRawBufferPointer(rebasing: bytes[(index + 1)..<line.end])
        switch type {
        case UInt8(ascii: "+"):
            index = line.next
            return .simpleString(String(decoding: text, as: UTF8.self))
        case UInt8(ascii: "-"):
            index = line.next
            return .error(String(decoding: text, as: UTF8.self))
        case UInt8(ascii: ":"):
            index = line.next
            return .integer(try Self.integer(text))
        case UInt8(ascii: "$"):
            let length = try Self.integer(text)
            if length == -1 {
                index = line.next
                return .bulkString(nil)
            }
            guard length >= 0 else { throw RESPError("bulk string length \(length)") }
            guard length <= maximumBulkLength else { throw RESPError("bulk string of \(length) bytes, over the limit of \(maximumBulkLength)") }
            let start = line.next
            let end = start + Int(length)
            guard end + 2 <= bytes.count else { return nil }
            guard bytes[end] == 0x0D, bytes[end + 1] == 0x0A else { throw RESPError("bulk string of \(length) bytes not followed by CRLF") }
            index = end + 2
            return .bulkString(Array(bytes[start..<end]))
        case UInt8(ascii: "*"):
            let count = try Self.integer(text)
            if count == -1 {
                index = line.next
                return .array(nil)
            }
            guard count >= 0 else { throw RESPError("array length \(count)") }
            guard count <= maximumArrayLength else { throw RESPError("array of \(count) elements, over the limit of \(maximumArrayLength)") }
            guard depth < maximumDepth else { throw RESPError("arrays nested deeper than \(maximumDepth)") }
            var at = line.next
            var elements: [RESPValue] = []
            elements.reserveCapacity(Int(min(count, 1024)))
            for _ in 0..<count {
                guard let element = try value(bytes, &at, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            index = at
            return .array(elements)
        default:
            throw RESPError("unknown reply type byte 0x\(String(type, radix: 16))")
        }
    }

    /// The end of the line starting at `start` (its CR) and where the next begins; nil when
    /// the CRLF has not arrived.
    static func line(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(RESPError) -> (end: Int, next: Int)? {
        var i = start
        while i < bytes.count {
            if bytes[i] == 0x0D {
                guard i + 1 < bytes.count else { return nil }
                guard bytes[i + 1] == 0x0A else { throw RESPError("CR not followed by LF") }
                return (i, i + 2)
            }
            if bytes[i] == 0x0A { throw RESPError("LF without CR") }
            i += 1
        }
        return nil
    }

    /// A decimal integer, optionally negative, read from the bytes (no String made: every
    /// length of every reply goes through here).
    static func integer(_ text: UnsafeRawBufferPointer) throws(RESPError) -> Int64 {
        let negative = text.first == UInt8(ascii: "-")
        let digits = negative ? UnsafeRawBufferPointer(rebasing: text.dropFirst()) : text
        var value: Int64 = 0
        var valid = !digits.isEmpty && digits.count <= 19
        for byte in digits where valid {
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int64(byte &- UInt8(ascii: "0")))
            valid = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") && !overflow && !overflow2
            value = sum
        }
        guard valid else { throw RESPError("'\(String(decoding: text.prefix(24), as: UTF8.self))' is not an integer") }
        return negative ? -value : value
    }
}

/// Why bytes from Redis are not a RESP2 reply.
public struct RESPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong with the input.
    public var description: String

    /// An error saying what is wrong.
    public init(_ description: String) {
        self.description = "malformed reply from Redis: " + description
    }
}
