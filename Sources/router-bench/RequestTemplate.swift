import RouterProtocol

/// A request line for the load generator, with `{c}` (the connection's number) and `{n}` (the
/// request's number on that connection) filled in per request, appended straight into the
/// batch being sent: no string is built per request. The load generator shares the machine's
/// cores with what it measures, so it must cost as little as redis-benchmark, which fills its
/// keys in place the same way.
struct RequestTemplate {
    private enum Part {
        case text(String)
        case connection
        case number
    }

    private let parts: [Part]

    /// `text` with its placeholders; the line's newline is added here.
    init(_ text: String) {
        var parts: [Part] = []
        var literal = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            let tail = rest[open...]
            let placeholder: Part? = tail.hasPrefix("{c}") ? .connection : tail.hasPrefix("{n}") ? .number : nil
            literal += rest[..<open]
            if let placeholder {
                if !literal.isEmpty { parts.append(.text(literal)) }
                literal = ""
                parts.append(placeholder)
                rest = tail.dropFirst(3)
            } else {
                literal += "{"
                rest = tail.dropFirst()
            }
        }
        parts.append(.text(literal + rest + "\n"))
        self.parts = parts
    }

    /// Appends the line for request `number` on `connection` to `batch`.
    @inline(__always)
    func append(to batch: inout JSONWriter, connection: Int, number: Int) {
        for part in parts {
            switch part {
            case .text(let text): batch.append(text)
            case .connection: batch.append(UInt64(connection))
            case .number: batch.append(UInt64(number))
            }
        }
    }
}
