import RouterProtocol

/// A fast reader for the common batch lines (add, delete, touch, lookup with their plain
/// flags). Swift Argument Parser rebuilds its command tree on every parse, far too slow for
/// 100,000 lines, so batch reads the lines it can here and hands
/// everything else — any unknown flag, any mistake, --help — to the parser, whose messages
/// then apply. `BatchTests.fastReaderAgreesWithTheArgumentParser` checks both agree.
enum BatchLineReader {
    struct Spec {
        var values: Set<String>
        var flags: Set<String>
        var positionals: ClosedRange<Int>
    }

    /// Global options, accepted and ignored in batch lines (the batch's own apply).
    static let globalValues: Set<String> = ["--socket", "-o", "--output", "--timeout"]
    static let globalFlags: Set<String> = ["-q", "--quiet", "--no-color"]

    static let specs: [String: Spec] = [
        "add": Spec(values: ["--domain", "--tunnel", "--target", "--ttl", "--label", "--owner"],
                    flags: ["--random", "--replace"], positionals: 0...1),
        "delete": Spec(values: [], flags: ["--ignore-missing"], positionals: 1...Int.max),
        "touch": Spec(values: ["--ttl"], flags: [], positionals: 1...1),
        "lookup": Spec(values: [], flags: ["--sni"], positionals: 1...1),
    ]

    /// The requests for `words`, or nil when the parser should read the line.
    static func read(_ words: [String]) -> (requests: [(op: String, arguments: [(String, JSONValue)])], toleratesMissing: Bool)? {
        guard let command = words.first, let spec = specs[command] else { return nil }
        var positionals: [String] = []
        // A handful of options a line: small arrays searched in order beat hashing.
        var values: [(name: String, value: String)] = []
        var flags: [String] = []
        var i = 1
        var onlyPositionals = false
        while i < words.count {
            let word = words[i]
            i += 1
            if onlyPositionals || !word.hasPrefix("-") || word == "-" {
                positionals.append(word)
                continue
            }
            if word == "--" { onlyPositionals = true; continue }
            var name = word
            var inline: String?
            if word.hasPrefix("--"), let eq = word.utf8.firstIndex(of: UInt8(ascii: "=")) {
                name = String(word[..<eq])
                inline = String(word[word.utf8.index(after: eq)...])
            }
            if spec.values.contains(name) || globalValues.contains(name) {
                let value: String
                if let inline {
                    value = inline
                } else {
                    guard i < words.count, !words[i].hasPrefix("-") else { return nil }
                    value = words[i]
                    i += 1
                }
                if name != "--label", values.contains(where: { $0.name == name }) { return nil }
                values.append((name, value))
            } else if (spec.flags.contains(name) || globalFlags.contains(name)) && inline == nil {
                flags.append(name)
            } else {
                return nil
            }
        }
        guard spec.positionals.contains(positionals.count) else { return nil }
        func one(_ name: String) -> String? { values.first { $0.name == name }?.value }
        var ttl: DurationArgument?
        if let text = one("--ttl") {
            guard let parsed = DurationArgument(argument: text) else { return nil }
            ttl = parsed
        }
        if let output = one("-o") ?? one("--output"), OutputFormat(rawValue: output) == nil { return nil }
        if let timeout = one("--timeout"), DurationArgument(argument: timeout) == nil { return nil }
        switch command {
        case "add":
            let random = flags.contains("--random")
            guard random != !positionals.isEmpty, one("--domain") == nil || random else { return nil }
            let labels = values.filter { $0.name == "--label" }.map(\.value)
            guard (try? parseLabels(labels)) != nil else { return nil }
            return ([("add", Add.requestArguments(
                key: positionals.first, random: random, domain: one("--domain"), tunnel: one("--tunnel"),
                target: one("--target"), ttl: ttl, session: false, replace: flags.contains("--replace"),
                labels: labels, owner: one("--owner")))], false)
        case "delete":
            return (positionals.map { ("delete", [("key", .string($0))]) }, flags.contains("--ignore-missing"))
        case "touch":
            var args: [(String, JSONValue)] = [("key", .string(positionals[0]))]
            if let ttl { args.append(("ttl", .number(ttl.seconds))) }
            return ([("touch", args)], false)
        default:
            let value = positionals[0]
            return ([("lookup", [(Lookup.field(for: value, sni: flags.contains("--sni")), .string(value))])], false)
        }
    }
}
