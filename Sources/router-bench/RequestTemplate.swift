/// A request line for the load generator, with `{c}` (the connection's number) and `{n}` (the
/// request's number on that connection) filled in per request, appended straight into the
/// batch being sent: no string is built per request. The load generator shares the machine's
/// cores with what it measures, so it must cost as little as redis-benchmark, which fills its
/// keys in place the same way.
struct RequestTemplate {
    private enum Part {
        case bytes([UInt8])
        case connection
        case number
    }

    private let parts: [Part]

    /// `text` with its placeholders; the line's newline is added here.
    init(_ text: String) {
        var parts: [Part] = []
        var literal: [UInt8] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            let tail = rest[open...]
            let placeholder: Part? = tail.hasPrefix("{c}") ? .connection : tail.hasPrefix("{n}") ? .number : nil
            literal += rest[..<open].utf8
            if let placeholder {
                if !literal.isEmpty { parts.append(.bytes(literal)) }
                literal = []
                parts.append(placeholder)
                rest = tail.dropFirst(3)
            } else {
                literal.append(UInt8(ascii: "{"))
                rest = tail.dropFirst()
            }
        }
        literal += rest.utf8
        literal.append(0x0A)
        parts.append(.bytes(literal))
        self.parts = parts
    }

    /// Appends the line for request `number` on `connection` to `buffer`.
    @inline(__always)
    func append(to buffer: inout [UInt8], connection: Int, number: Int) {
        for part in parts {
            switch part {
            case .bytes(let bytes): buffer.append(contentsOf: bytes)
            case .connection: Self.appendDecimal(connection, to: &buffer)
            case .number: Self.appendDecimal(number, to: &buffer)
            }
        }
    }

    @inline(__always)
    static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        precondition(value >= 0, "request numbers are not negative")
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            buffer.append(UInt8(truncatingIfNeeded: 48 + rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
