#if canImport(Glibc)
import Glibc
#endif
import Yams

/// A daemon's configuration file: a YAML mapping whose keys are the daemon's long flags without
/// their dashes (`grace: 30s` is `--grace 30s`), a repeatable flag's values as a list
/// (`domain: [example.com, example.net]`) or one value. Every value is read as the text it is
/// written as and checked by the flag's own parser, so YAML's implicit types never apply
/// (`0660` stays a mode, `no` stays a word), and every problem names its line.
///
/// YAML rather than TOML: Yams (libyaml) gives every node its line and column, which is what
/// `--check-config` prints beside each problem; TOMLKit's Swift API gives no positions, and
/// swift-configuration reads YAML through Yams too but reports no positions either.
public struct ConfigFile: Sendable, Equatable {
    /// One key of the file: the flag it stands for, its values, and where it is.
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var values: [String]
        public var line: Int
        /// A structured key's value.
        public var node: ConfigNode? = nil
    }

    /// Where the file was read from.
    public var path: String
    /// The keys in the order the file gives them.
    public var entries: [Entry]

    /// Reads and checks `path` against `keys`: its syntax, that it is one mapping of known keys,
    /// and each value by its key's check. Every problem found is thrown at once.
    public static func read(_ path: String, keys: [ConfigKey]) throws(ConfigProblems) -> ConfigFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ConfigProblems([ConfigProblem(path: path, message: "cannot read the configuration file: \(String(cString: strerror(errno)))")])
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                throw ConfigProblems([ConfigProblem(path: path, message: "cannot read the configuration file: \(String(cString: strerror(errno)))")])
            }
            if n == 0 { break }
            bytes += chunk[..<n]
            guard bytes.count <= 1 << 20 else {
                throw ConfigProblems([ConfigProblem(path: path, message: "the configuration file is over 1 MiB: not a configuration file?")])
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigProblems([ConfigProblem(path: path, message: "the configuration file is not UTF-8 text")])
        }
        return try parse(text, path: path, keys: keys)
    }

    /// `read(_:keys:)` for text already read (`path` names it in problems).
    public static func parse(_ text: String, path: String, keys: [ConfigKey]) throws(ConfigProblems) -> ConfigFile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigProblems([ConfigProblem(path: path, yaml: error)])
        }
        guard let root else { return ConfigFile(path: path, entries: []) }
        guard let mapping = root.mapping else {
            throw ConfigProblems([ConfigProblem(path: path, at: root.mark, message: "the file must be a mapping of keys to values (such as 'grace: 30s'), one key a flag")])
        }
        let known = Dictionary(keys.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var entries: [Entry] = []
        var problems: [ConfigProblem] = []
        var seen: [String: Int] = [:]
        for (keyNode, valueNode) in mapping {
            guard let name = keyNode.scalar?.string else {
                problems.append(ConfigProblem(path: path, at: keyNode.mark, message: "a key must be a flag's name, such as 'grace'"))
                continue
            }
            let line = keyNode.mark?.line ?? 0
            if let first = seen[name] {
                // (Yams refuses a mapping with a key twice before this; kept for the line.)
                problems.append(ConfigProblem(path: path, at: keyNode.mark, message: "'\(name)' is given more than once (first on line \(first)): give each key once"))
                continue
            }
            seen[name] = line
            guard let key = known[name] else {
                let hint = ConfigKey.nearest(to: name, in: keys).map { " (did you mean '\($0)'?)" } ?? ""
                problems.append(ConfigProblem(path: path, at: keyNode.mark, message: "unknown key '\(name)'\(hint)"))
                continue
            }
            if key.structured {
                entries.append(Entry(key: name, values: [], line: line, node: ConfigNode(valueNode)))
                continue
            }
            var values: [String] = []
            switch valueNode {
            case .scalar(let scalar):
                guard scalar.style != .plain || Resolver.default.resolveTag(of: valueNode) != .null else {
                    problems.append(ConfigProblem(path: path, at: keyNode.mark, message: "\(name): no value; give one, or leave the key out for the default"))
                    continue
                }
                values = [scalar.string]
            case .sequence(let sequence):
                guard key.repeatable else {
                    problems.append(ConfigProblem(path: path, at: valueNode.mark, message: "\(name): takes one value, not a list"))
                    continue
                }
                for item in sequence {
                    guard let scalar = item.scalar else {
                        problems.append(ConfigProblem(path: path, at: item.mark, message: "\(name): each item of the list must be one value"))
                        continue
                    }
                    values.append(scalar.string)
                }
            default:
                problems.append(ConfigProblem(path: path, at: valueNode.mark, message: "\(name): \(key.repeatable ? "takes a value or a list of values" : "takes one value"), not a mapping"))
                continue
            }
            var valid = true
            for value in values {
                if let why = key.check(value) {
                    problems.append(ConfigProblem(path: path, at: valueNode.mark, message: "\(name): '\(value)' \(why)"))
                    valid = false
                }
            }
            if valid { entries.append(Entry(key: name, values: values, line: line)) }
        }
        guard problems.isEmpty else { throw ConfigProblems(problems) }
        return ConfigFile(path: path, entries: entries)
    }

    /// The entry for `key`, if the file gives it.
    public subscript(key: String) -> Entry? {
        entries.first { $0.key == key }
    }

    /// The file as command-line arguments (`--key=value`, once per value), leaving out every key
    /// whose flag `commandLine` gives: a flag overrides the file.
    public func arguments(overriddenBy commandLine: [String]) -> [String] {
        let given = ConfigFile.flagsGiven(in: commandLine)
        var arguments: [String] = []
        for entry in entries where !given.contains(entry.key) && entry.node == nil {
            for value in entry.values {
                // `--key=` would read as a missing value: an empty one goes as a word of its own.
                arguments += value.isEmpty ? ["--\(entry.key)", ""] : ["--\(entry.key)=\(value)"]
            }
        }
        return arguments
    }

    /// The long flags (without dashes) given in `arguments`, as `--name` or `--name=value`.
    public static func flagsGiven(in arguments: [String]) -> Set<String> {
        var names: Set<String> = []
        for argument in arguments {
            if argument == "--" { break }
            guard argument.hasPrefix("--"), argument.count > 2 else { continue }
            let name = argument.dropFirst(2).prefix { $0 != "=" }
            names.insert(String(name))
        }
        return names
    }

    /// The file's line for the first `--flag` named in `message` (an error about flags), if the
    /// file gives that flag.
    public func line(forFlagIn message: String) -> Int? {
        var rest = Substring(message)
        while let range = rest.range(of: "--") {
            let name = rest[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" }
            if let entry = self[String(name)] { return entry.line }
            rest = rest[range.upperBound...]
        }
        return nil
    }
}

extension ConfigNode {
    /// The node of a YAML node (aliases resolved by the composer).
    init(_ node: Node) {
        let line = node.mark?.line ?? 0
        let column = node.mark?.column ?? 0
        switch node {
        case .scalar(let scalar):
            self.init(value: .scalar(scalar.string), line: line, column: column)
        case .sequence(let sequence):
            self.init(value: .list(sequence.map(ConfigNode.init)), line: line, column: column)
        case .mapping(let mapping):
            let pairs = mapping.map { key, value in
                Pair(key: key.scalar?.string ?? "", line: key.mark?.line ?? 0, column: key.mark?.column ?? 0, value: ConfigNode(value))
            }
            self.init(value: .map(pairs), line: line, column: column)
        default:
            self.init(value: .scalar(""), line: line, column: column)
        }
    }
}
