/// A request's id: a JSON string or an integer up to 2^53, echoed verbatim in the replies.
public enum RequestID: Hashable, Sendable, CustomStringConvertible {
    case number(String)
    case string(String)

    /// The id as JSON, to echo.
    public var json: JSONValue {
        switch self {
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        }
    }

    /// The text for a person: messages and logs.
    public var description: String { JSONWriter.encode(json) }

    /// Reads an id; nil when `value` is neither a string nor an integer within ±2^53.
    public init?(_ value: JSONValue) {
        switch value {
        case .string(let s):
            self = .string(s)
        case .number(let n):
            // An integer is written as digits (and a sign): no fraction, no exponent. Checked on
            // the bytes: Character-wise String searches are slow (Unicode rules for ASCII).
            let integral = n.utf8.allSatisfy { $0 != UInt8(ascii: ".") && $0 != UInt8(ascii: "e") && $0 != UInt8(ascii: "E") }
            guard integral, let i = Int64(n), abs(i) <= 9_007_199_254_740_992 else { return nil }
            self = .number(n)
        default:
            return nil
        }
    }
}
