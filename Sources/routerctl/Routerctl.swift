import ArgumentParser
import RouterClient
import RouterProtocol

/// The version both executables print with --version.
let routerctlVersion = ProductVersion.current

struct Routerctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routerctl",
        abstract: "Drive routerd, the route table of a tunnel gateway: add, look up, list and watch routes.",
        discussion: """
            routerctl talks to routerd over its Unix socket (--socket, else $ROUTER_SOCKET, else \
            /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else \
            /tmp/routerd-UID/routerd.sock). With no subcommand (no arguments, or only global \
            options such as --socket PATH) on a terminal it starts the interactive shell; \
            without a terminal it prints this usage and exits 64.

            With --url URL (or $ROUTER_URL) it talks to routerd's HTTP API instead, on this \
            host or another (routerd --http), with a bearer token from --token-file or \
            $ROUTER_TOKEN and, for https://, --cacert for a private CA: every subcommand and \
            the shell work the same, with the same output and exit statuses.

            Data goes to stdout, errors to stderr with the daemon's message. -o json prints the \
            protocol's result (NDJSON for list and watch) and errors as JSON on stderr.

            GLOBAL OPTIONS (every subcommand takes them, before or after its name):
              --socket <path>        the daemon's socket
              --url <url>            routerd's HTTP API instead of a socket
              --token-file <path>    with --url: the bearer token (its first line)
              --cacert <path>        with an https:// --url: the CA certificates to trust
              -o, --output <format>  table, wide, json or name
              -q, --quiet            nothing on success (errors still go to stderr)
              --no-color             no colour, even on a terminal
              --timeout <duration>   how long to wait for an answer (default: 10s)
            `routerctl SUBCOMMAND --help` describes each in full.

            \(ExitStatus.summary)

            FILES:
              /run/routerd/routerd.sock      the default socket for root
              $XDG_RUNTIME_DIR/routerd.sock  the default socket for other users
              /tmp/routerd-UID/routerd.sock  the default without XDG_RUNTIME_DIR
              ~/.routerctl_history           the shell's history

            PROTOCOL: routerctl speaks routerd's protocol v1, one JSON object per line on the \
            socket (docs/protocol.md; routerd(8) summarizes it). `batch` also takes raw protocol \
            requests, lines such as {"op":"add","key":"foo","tunnel":"t1"}.

            ENVIRONMENT:
              ROUTER_SOCKET       the socket when --socket is not given
              ROUTER_URL          the HTTP API when neither --url nor --socket is given
              ROUTER_TOKEN        the API's bearer token when --token-file is not given
              NO_COLOR            no colour (colour only ever goes to a terminal)
              ROUTERCTL_HISTFILE  the shell's history (~/.routerctl_history)
            """,
        version: routerctlVersion,
        subcommands: [Add.self, SetCommand.self, Delete.self, Lookup.self, List.self, Watch.self, Touch.self,
                      Stats.self, Namespaces.self, History.self, DNS.self, Ping.self, Shell.self, Batch.self])
}

/// Completes route keys from the daemon the line names (`--socket`, `--url` with
/// `--token-file`, or the environment's default); nothing, silently, when none answers quickly.
@Sendable func routeKeyCompletion(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
    guard let client = completionClient(words) else { return [] }
    return liveKeys(prefix: prefix, client: client).keys
}

/// Completes the names of the namespaces the caller belongs to (an admin: all), from the
/// daemon the line names; nothing, silently, when none answers quickly.
@Sendable func namespaceCompletion(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
    guard let client = completionClient(words), let stats = try? client.call("stats").result,
          case .array(let namespaces)? = stats["namespaces"] else { return [] }
    return namespaces.compactMap { $0["name"]?.stringValue }.filter { $0.hasPrefix(prefix) }
}

/// A connection to the daemon a command line being completed names (`--socket`, `--url` with
/// `--token-file`, or the environment's default), with a short timeout.
func completionClient(_ words: [String]) -> RouterClient? {
    func value(_ name: String) -> String? {
        if let i = words.firstIndex(of: name), i + 1 < words.count { return words[i + 1] }
        return words.last { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }
    var arguments: [String] = []
    for name in ["--socket", "--url", "--token-file", "--cacert"] {
        if let given = value(name) { arguments += [name, given] }
    }
    guard let options = try? GlobalOptions.parse(arguments + ["--timeout", "500ms"]) else { return nil }
    return try? options.connect(timeout: .milliseconds(500))
}

/// At most this many route keys are offered for completion.
let completionKeyLimit = 200

/// Up to `completionKeyLimit` route keys starting with `prefix`, over `connection`, and
/// whether more keys start with it.
func liveKeys(prefix: String, client connection: RouterClient) -> (keys: [String], capped: Bool) {
    do {
        var keys: [String] = []
        var args: [(String, JSONValue)] = [("limit", .number(completionKeyLimit + 1))]
        if !prefix.isEmpty { args.append(("prefix", .string(prefix))) }
        try connection.call("list", args) { (line: ReplyLine) throws(ClientError) -> Bool in
            if case .route(_, let route) = line, let key = route["key"]?.stringValue { keys.append(key) }
            return true
        }
        let capped = keys.count > completionKeyLimit
        return (Array(keys.prefix(completionKeyLimit)), capped)
    } catch {
        return ([], false)
    }
}
