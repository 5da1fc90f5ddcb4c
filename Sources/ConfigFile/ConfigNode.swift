/// A structured value of a configuration file (a key that is not a flag, such as `namespaces`),
/// with where each part is, so that whoever reads it can name the line of each problem.
public struct ConfigNode: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case scalar(String)
        case list([ConfigNode])
        case map([Pair])
    }

    /// One key of a mapping and its value.
    public struct Pair: Sendable, Equatable {
        public var key: String
        public var line: Int
        public var column: Int
        public var value: ConfigNode
    }

    public var value: Value
    public var line: Int
    public var column: Int

    /// The text of a scalar.
    public var scalar: String? {
        if case .scalar(let text) = value { return text }
        return nil
    }

    /// The items of a list (a scalar counts as a list of one).
    public var items: [ConfigNode]? {
        switch value {
        case .list(let items): return items
        case .scalar: return [self]
        case .map: return nil
        }
    }

    /// The pairs of a mapping.
    public var pairs: [Pair]? {
        if case .map(let pairs) = value { return pairs }
        return nil
    }

    /// A problem at this node, in `path`.
    public func problem(_ path: String, _ message: String) -> ConfigProblem {
        ConfigProblem(path: path, line: line, column: column, message: message)
    }
}
