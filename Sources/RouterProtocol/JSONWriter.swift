/// Writes JSON text: minified, members in the order given.
public struct JSONWriter {
    /// The text written so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty writer with room for `capacity` bytes.
    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// Writes a value.
    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .number(let n): append(n)
        case .string(let s): write(string: s)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (k, element) in elements.enumerated() {
                if k > 0 { bytes.append(UInt8(ascii: ",")) }
                write(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (k, (name, member)) in members.enumerated() {
                if k > 0 { bytes.append(UInt8(ascii: ",")) }
                write(string: name)
                bytes.append(UInt8(ascii: ":"))
                write(member)
            }
            bytes.append(UInt8(ascii: "}"))
        case .raw(let encoded):
            bytes.append(contentsOf: encoded)
        }
    }

    /// Appends text that is already JSON.
    public mutating func append(_ text: String) {
        // Native and literal strings are contiguous: one copy instead of a byte-by-byte walk.
        if text.utf8.withContiguousStorageIfAvailable({ bytes.append(contentsOf: $0) }) != nil { return }
        bytes.append(contentsOf: text.utf8)
    }

    /// Lets `body` write up to `maximum` bytes in place; it returns how many it wrote.
    package mutating func appendReserved(_ maximum: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
        let old = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: maximum))
        let n = bytes.withUnsafeMutableBytes { body(UnsafeMutableRawBufferPointer(rebasing: $0[old...])) }
        bytes.removeLast(maximum - n)
    }

    /// Appends one byte, e.g. a newline ending a line.
    public mutating func append(byte: UInt8) {
        bytes.append(byte)
    }

    /// Appends a non-negative integer's digits without building a String.
    public mutating func append(_ n: UInt64) {
        if n < 10 {
            bytes.append(0x30 + UInt8(n))
            return
        }
        // The digits are made backwards into a stack buffer, then appended in one copy.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { out in
            var i = 20
            var rest = n
            while rest > 0 {
                i -= 1
                out[i] = 0x30 &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: out[i...]))
        }
    }

    /// Empties the writer, keeping its capacity for the next line.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Writes a string, escaped.
    public mutating func write(string: String) {
        bytes.append(UInt8(ascii: "\""))
        let utf8 = string.utf8
        // Most strings need no escapes: copy them in one go.
        let plain = utf8.withContiguousStorageIfAvailable { raw -> Bool in
            for b in raw where b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F { return false }
            bytes.append(contentsOf: raw)
            return true
        }
        if plain == true {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for b in utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(0x5C); bytes.append(0x22)
            case UInt8(ascii: "\\"): bytes.append(0x5C); bytes.append(0x5C)
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            case 0x00..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(hex[Int(b >> 4)])
                bytes.append(hex[Int(b & 0xF)])
            default:
                bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `value` as one line of minified JSON (without the newline).
    public static func encode(_ value: JSONValue) -> String {
        var writer = JSONWriter()
        writer.write(value)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
