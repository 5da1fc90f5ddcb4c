/// One key a configuration file may give: a long flag of the daemon, how many values it takes,
/// how its values are checked, and whether a running daemon takes a new value on reload.
public struct ConfigKey: Sendable {
    /// When a changed value takes effect.
    public enum Reload: Sendable, Equatable {
        /// On reload (SIGHUP).
        case live
        /// At the next start only: a reload that finds it changed says so and keeps the running value.
        case restart
    }

    /// The flag's long name without its dashes: `grace` for `--grace`.
    public var name: String
    /// Whether the flag may be given more than once (the file gives a list).
    public var repeatable: Bool
    public var reload: Reload
    /// Why a value is not good (completing "'VALUE' …"), or nil when it is.
    public var check: @Sendable (String) -> String?
    /// A key that is no flag: its value (any YAML) is kept as a `ConfigNode` for its reader,
    /// and not turned into command-line arguments.
    public var structured: Bool = false

    public init(_ name: String, repeatable: Bool = false, reload: Reload = .restart,
                check: @escaping @Sendable (String) -> String? = { _ in nil }) {
        self.name = name
        self.repeatable = repeatable
        self.reload = reload
        self.check = check
    }

    /// A key whose value is a structure (a list or mapping) rather than a flag's value.
    public static func structured(_ name: String, reload: Reload = .restart) -> ConfigKey {
        var key = ConfigKey(name, reload: reload)
        key.structured = true
        return key
    }

    /// The key in `keys` nearest to a misspelt `name` (at most two edits away), for a hint.
    static func nearest(to name: String, in keys: [ConfigKey]) -> String? {
        nearest(to: name, among: keys.map(\.name))
    }

    /// The word in `names` nearest to a misspelt `name` (at most two edits away), for a hint.
    public static func nearest(to name: String, among names: [String]) -> String? {
        let candidates = names.map { ($0, distance(name, $0)) }.filter { $0.1 <= 2 }
        return candidates.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
