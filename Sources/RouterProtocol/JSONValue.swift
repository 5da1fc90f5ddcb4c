/// A JSON value as the protocol reads and writes it.
///
/// Hand-written rather than Foundation's coders: the daemon must answer every malformed line
/// with the precise problem (an unknown field by name, nesting too deep, invalid UTF-8), never
/// crash on hostile input (10,000 levels of nesting), echo numeric ids verbatim, and parse and
/// write hundreds of thousands of small messages a second; and `routerctl` must not pay
/// Foundation's start-up cost. The `Codable` wire types in `WireTypes.swift` remain the
/// specification; a test checks that both agree.
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    /// A number, kept as its text so that ids are echoed verbatim.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in the order written; duplicate names are kept, and the last one wins on lookup.
    case object([(String, JSONValue)])
    /// Already-encoded JSON, written verbatim: for hot messages a writer builds directly.
    /// Never produced by the parser.
    case raw([UInt8])

    /// Equal when the JSON is the same (numbers compared as their text).
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y || (Double(x) != nil && Double(x) == Double(y))
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            let dx = Dictionary(x, uniquingKeysWith: { _, last in last })
            let dy = Dictionary(y, uniquingKeysWith: { _, last in last })
            return dx == dy
        case (.raw(let x), .raw(let y)): return x == y
        default: return false
        }
    }

    /// Hashes consistently with `==`.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(b)
        case .number(let n): hasher.combine(Double(n) ?? 0)
        case .string(let s): hasher.combine(s)
        case .array(let a): hasher.combine(a)
        case .object(let o): hasher.combine(o.count)
        case .raw(let r): hasher.combine(r)
        }
    }

    /// An integer.
    public static func number(_ value: Int) -> JSONValue { .number(String(value)) }
    /// An unsigned integer.
    public static func number(_ value: UInt64) -> JSONValue { .number(String(value)) }
    /// A number; integral values are written without a fraction.
    public static func number(_ value: Double) -> JSONValue {
        if value == value.rounded(), abs(value) < 1e15 { return .number(String(Int64(value))) }
        return .number(String(value))
    }

    /// The member named `name` (the last one, when repeated).
    public subscript(name: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.0 == name }?.1
    }

    /// The element at `index` of an array; nil for anything else or an index out of range.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The string, if this is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The flag, if this is one.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The number, if this is one.
    public var doubleValue: Double? {
        if case .number(let n) = self { return Double(n) }
        return nil
    }

    /// The value as an exact integer: a number without fraction or exponent within ±2^63.
    public var integerValue: Int64? {
        guard case .number(let n) = self else { return nil }
        if let i = Int64(n) { return i }
        if let d = Double(n), d == d.rounded(), abs(d) <= 9.007_199_254_740_992e15 { return Int64(d) }
        return nil
    }

    /// The JSON type's name, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object, .raw: return "an object"
        }
    }
}

/// Why a line is not acceptable JSON.
public struct JSONError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// Where, as a byte offset into the input.
    public var offset: Int
    /// The text for a person: messages and logs.
    public var description: String { "\(message) at byte \(offset)" }
}
