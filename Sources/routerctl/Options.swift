#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import RouterClient
import RouterHTTPClient
import RouterProtocol

/// How results are printed: see `GlobalOptions.output`.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// An aligned table (or a line) for people.
    case table
    /// The table with more columns: kind, labels, access rules, session, revisions.
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

    @Option(help: ArgumentHelp(
        "Talk to routerd's HTTP API at this URL (http://HOST:PORT or https://…) instead of a socket (default: $ROUTER_URL when --socket is not given).",
        valueName: "url"))
    var url: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp(
        "With --url: read the bearer token from this file (default: $ROUTER_TOKEN).", valueName: "path"), completion: .file())
    var tokenFile: String?

    @Option(help: ArgumentHelp(
        "With an https:// --url: trust the server certificates this PEM file holds (default: the system's trust store).",
        valueName: "path"), completion: .file())
    var cacert: String?

    var socketPath: String { socket ?? DefaultSocket.path }

    /// The HTTP API's URL when routerctl talks HTTP: `--url`, else `$ROUTER_URL` unless a
    /// `--socket` is given on the command line (an explicit option beats the environment).
    var httpURL: String? {
        if let url { return url }
        if socket != nil { return nil }
        guard let text = getenv("ROUTER_URL").map({ String(cString: $0) }), !text.isEmpty else { return nil }
        return text
    }

    /// Where commands go, as messages name it: the URL or the socket path.
    var address: String { httpURL ?? socketPath }

    func validate() throws {
        if url != nil && socket != nil {
            throw ValidationError("--url and --socket name two daemons: give one")
        }
        guard let url = httpURL else {
            if tokenFile != nil { throw ValidationError("--token-file goes with --url (or ROUTER_URL)") }
            if cacert != nil { throw ValidationError("--cacert goes with an https:// --url (or ROUTER_URL)") }
            return
        }
        let endpoint: Endpoint
        do { endpoint = try Endpoint(url) } catch { throw ValidationError((self.url == nil ? "ROUTER_URL: " : "--url: ") + error.description) }
        if cacert != nil && !endpoint.isTLS { throw ValidationError("--cacert is for an https:// URL; \(url) is plain http") }
        if let tokenFile {
            do { _ = try HTTPTransport.readToken(from: tokenFile) } catch { throw ValidationError("--token-file: " + error.description) }
        }
    }

    /// Opens a connection to the daemon these options name: its socket, or its HTTP API.
    func connect(timeout: Duration?) throws(ClientError) -> RouterClient {
        guard let url = httpURL else {
            return try RouterClient(path: socketPath, timeout: timeout)
        }
        let token = try bearerToken()
        let transport = try HTTPTransport(url: url, token: token, trusting: cacert, connectTimeout: timeout ?? .seconds(10))
        return try RouterClient(transport: transport, timeout: timeout)
    }

    /// The token from `--token-file`, else `$ROUTER_TOKEN`; nil when neither is given.
    func bearerToken() throws(ClientError) -> String? {
        if let tokenFile {
            do { return try HTTPTransport.readToken(from: tokenFile) } catch {
                throw .unreachable(path: httpURL ?? "", reason: error.description)
            }
        }
        guard let text = getenv("ROUTER_TOKEN").map({ String(cString: $0) }) else { return nil }
        return HTTPTransport.token(fromText: text)
    }
}

extension GlobalOptions {
    static let valued: Set<String> = ["--socket", "-o", "--output", "--timeout", "--url", "--token-file", "--cacert"]
    static let flags: Set<String> = ["-q", "--quiet", "--no-color"]

    /// The number of leading words that are global options (with their values).
    static func leadingGlobalCount(_ arguments: [String]) -> Int {
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            // Not an option at all (a subcommand, a key): nothing to look up.
            guard word.utf8.first == UInt8(ascii: "-") else { break }
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
