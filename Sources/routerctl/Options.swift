import ArgumentParser
import RouterProtocol

/// How results are printed: see `GlobalOptions.output`.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// An aligned table (or a line) for people.
    case table
    /// The table with more columns: kind, labels, session, revisions.
    case wide
    /// The protocol's `result` as JSON; NDJSON for `list` and `watch`; errors as JSON on stderr.
    case json
    /// Route keys only, one per line.
    case name
}

/// A duration as operators write it: `500ms`, `5s`, `2m`, `1h30m`, or bare seconds.
struct DurationArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    var value: Duration

    init(_ value: Duration) { self.value = value }

    init?(argument: String) {
        guard let value = DurationText.parse(argument), value > .zero else { return nil }
        self.value = value
    }

    var description: String { DurationText.format(value) }
    var defaultValueDescription: String { description }

    var seconds: Double {
        Double(value.components.seconds) + Double(value.components.attoseconds) / 1e18
    }
}

/// Options every subcommand takes, before or after its own arguments.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The daemon's socket (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).",
        valueName: "path"), completion: .file())
    var socket: String?

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp(
        "Output format: table, wide (more columns), json (the protocol's result; NDJSON for list and watch) or name (keys only).",
        valueName: "format"))
    var output: OutputFormat = .table

    @Flag(name: [.short, .customLong("quiet")], help: "Print nothing on success (errors still go to stderr).")
    var quiet = false

    @Flag(name: .customLong("no-color"), help: "No colour, even on a terminal (NO_COLOR set in the environment does the same).")
    var noColor = false

    @Option(help: ArgumentHelp("How long to wait for routerd to answer (watch waits for ever once started).", valueName: "duration"))
    var timeout = DurationArgument(.seconds(10))

    var socketPath: String { socket ?? DefaultSocket.path }
}

extension GlobalOptions {
    static let valued: Set<String> = ["--socket", "-o", "--output", "--timeout"]
    static let flags: Set<String> = ["-q", "--quiet", "--no-color"]

    /// The number of leading words that are global options (with their values).
    static func leadingGlobalCount(_ arguments: [String]) -> Int {
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            let name = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
            if valued.contains(word), i + 1 < arguments.count {
                i += 2
            } else if flags.contains(word) || (valued.contains(name) && word.contains("=")) {
                i += 1
            } else {
                break
            }
        }
        return i
    }

    /// Whether `arguments` name no subcommand: empty, or global options only
    /// (`routerctl --socket PATH`), which open the shell like no arguments at all.
    static func isOnlyGlobalOptions(_ arguments: [String]) -> Bool {
        leadingGlobalCount(arguments) == arguments.count
    }

    /// Moves global options written before the subcommand (`routerctl --socket S add foo`)
    /// to after it, where each subcommand's option group parses them.
    static func hoist(_ arguments: [String]) -> [String] {
        let i = leadingGlobalCount(arguments)
        let leading = Array(arguments[..<i])
        guard !leading.isEmpty, i < arguments.count, !arguments[i].hasPrefix("-") else { return arguments }
        return [arguments[i]] + leading + arguments[(i + 1)...]
    }
}
