/// A reply from Redis in RESP2 (the protocol every Redis since 2.0 speaks): a simple string, an
/// error, an integer, a bulk string (bytes, or null), or an array (of values, or null).
public enum RESPValue: Hashable, Sendable {
    /// `+OK`: short text without CR or LF.
    case simpleString(String)
    /// `-ERR …`: a refusal; the first word is its kind (`ERR`, `NOSCRIPT`, `WRONGTYPE`, …).
    case error(String)
    /// `:42`.
    case integer(Int64)
    /// `$3\r\nfoo`: binary-safe bytes; nil for the null bulk string (`$-1`).
    case bulkString([UInt8]?)
    /// `*2\r\n…`: nil for the null array (`*-1`).
    case array([RESPValue]?)

    /// The value as text: a simple or bulk string (bulk bytes decoded as UTF-8).
    public var string: String? {
        switch self {
        case .simpleString(let s): return s
        case .bulkString(let bytes?): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    /// The value as an integer: an integer reply, or a string of digits.
    public var integer: Int64? {
        switch self {
        case .integer(let n): return n
        default: return string.flatMap { Int64($0) }
        }
    }

    /// The elements of a non-null array.
    public var elements: [RESPValue]? {
        if case .array(let values?) = self { return values }
        return nil
    }

    /// Whether this is the null bulk string or the null array.
    public var isNull: Bool {
        switch self {
        case .bulkString(nil), .array(nil): return true
        default: return false
        }
    }
}
