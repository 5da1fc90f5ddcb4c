import ArgumentParser
import RouterClient
import RouterProtocol

struct Add: RouterCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add a route: a custom name, a random subdomain, a TCP port, or a wildcard.",
        discussion: """
            KEY is a bare label (under the only base domain), a full name, *.name for a wildcard, \
            tcp:N for a port, or tcp:auto for any free port. Adding a key your tunnel already holds \
            refreshes it; taking one from another tunnel needs --replace. Prints the route.

            With --session the route lives only as long as this command: it stays in the foreground \
            (like ssh -R) until Ctrl-C, and the daemon removes the route its grace period later. In \
            the shell, session routes live as long as the shell's connection.

            EXAMPLES:
              routerctl add foo --tunnel t1 --target 127.0.0.1:8080
              routerctl add --random --domain example.com --ttl 1h
              routerctl add '*.apps.example.com' --tunnel t1
              routerctl add tcp:auto --tunnel t1 --session
              routerctl add foo --tunnel t2 --replace --label env=prod
              routerctl add ui --allow 10.0.0.0/8 --deny 10.1.0.0/16

            --allow and --deny say which client addresses a gateway (routergw) lets \
            through: a connection from a --deny block is refused even when an --allow block \
            holds it; without --allow everyone else may connect. The gateway checks the \
            connection's own address, never X-Forwarded-For.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("foo, foo.example.com, *.foo.example.com, tcp:N or tcp:auto.", valueName: "key"))
    var key: String?

    @Flag(help: "Pick a random free subdomain instead of KEY.")
    var random = false

    @Option(help: ArgumentHelp("With --random: the base domain to pick under.", valueName: "domain"))
    var domain: String?

    @Option(help: ArgumentHelp("The tunnel id (default: the daemon assigns a UUID).", valueName: "id"))
    var tunnel: String?

    @Option(help: ArgumentHelp("Where the gateway forwards: host:port, [v6]:port or unix:/path.", valueName: "address"))
    var target: String?

    @Option(help: ArgumentHelp("Lapse after this long unless touched: 30s, 5m, 2h, 1h30m.", valueName: "duration"))
    var ttl: DurationArgument?

    @Flag(help: "Bind the route to this connection and hold it in the foreground until Ctrl-C.")
    var session = false

    @Flag(help: "Take the key over from another tunnel.")
    var replace = false

    @Option(name: .customLong("label"), help: ArgumentHelp("A label, key=value (repeatable).", valueName: "k=v"))
    var labels: [String] = []

    @Option(name: .customLong("allow"), help: ArgumentHelp("Only clients in this address block may connect through a gateway: 10.0.0.0/8, 2001:db8::/32 (repeatable).", valueName: "cidr"))
    var allow: [String] = []

    @Option(name: .customLong("deny"), help: ArgumentHelp("Clients in this address block may not, even when allowed (repeatable).", valueName: "cidr"))
    var deny: [String] = []

    @Option(help: ArgumentHelp("Admins: record this owner instead of yourself.", valueName: "user"))
    var owner: String?

    func validate() throws {
        if random && key != nil { throw ValidationError("give either a KEY or --random, not both") }
        if !random && key == nil { throw ValidationError("name the KEY to add (foo, foo.example.com, *.foo.example.com, tcp:N, tcp:auto) or pass --random") }
        if domain != nil && !random { throw ValidationError("--domain goes with --random") }
        _ = try parseLabels(labels)
    }

    var arguments: [(String, JSONValue)] {
        Add.requestArguments(key: key, random: random, domain: domain, tunnel: tunnel, target: target, ttl: ttl,
                             session: session, replace: replace, labels: labels, allow: allow, deny: deny, owner: owner)
    }

    /// The protocol arguments of an add (shared with batch's fast line reader).
    static func requestArguments(key: String?, random: Bool, domain: String?, tunnel: String?, target: String?,
                                 ttl: DurationArgument?, session: Bool, replace: Bool, labels: [String],
                                 allow: [String] = [], deny: [String] = [], owner: String?) -> [(String, JSONValue)] {
        var args: [(String, JSONValue)] = []
        if let key { args.append(("key", .string(key))) }
        if random { args.append(("random", .bool(true))) }
        if let domain { args.append(("domain", .string(domain))) }
        if let tunnel { args.append(("tunnel", .string(tunnel))) }
        if let target { args.append(("target", .string(target))) }
        if let ttl { args.append(("ttl", .number(ttl.seconds))) }
        if session { args.append(("session", .bool(true))) }
        if replace { args.append(("replace", .bool(true))) }
        if !labels.isEmpty { args.append(("labels", .object((try? parseLabels(labels)) ?? []))) }
        if !allow.isEmpty { args.append(("allow", .array(allow.map { .string($0) }))) }
        if !deny.isEmpty { args.append(("deny", .array(deny.map { .string($0) }))) }
        if let owner { args.append(("owner", .string(owner))) }
        return args
    }

    func execute(in context: Context) throws(ClientError) -> Int32 {
        let result = try context.call("add", arguments)
        context.printRoutes([result["route"] ?? .null], result: result)
        guard session, !context.inShell else { return ExitStatus.ok }
        context.terminal.err("holding the session: the route goes the daemon's grace period after Ctrl-C")
        return try context.holdConnection()
    }
}

extension Context {
    /// Prints routes in the output format (`result` is what `-o json` prints).
    func printRoutes(_ routes: [JSONValue], result: JSONValue, extra: (headers: [String], cells: [[String]])? = nil) {
        guard !quiet else { return }
        switch format {
        case .json:
            json(result)
        case .name:
            for route in routes { out(route["key"]?.stringValue ?? "?") }
        case .table, .wide:
            var table = TextTable(headers: RouteText.headers(wide: format == .wide) + (extra?.headers ?? []))
            let rows = routes.enumerated().map { i, route in
                RouteText.cells(route, wide: format == .wide) + (extra?.cells[i] ?? [])
            }
            table.fit(rows)
            out(table.header(terminal))
            for row in rows { out(table.line(row)) }
        }
    }

    /// Keeps the connection (and its session's routes) until Ctrl-C or the daemon goes away.
    func holdConnection() throws(ClientError) -> Int32 {
        Interrupt.catchSignals()
        let client = try connection()
        client.timeout = nil
        while true {
            do {
                _ = try client.read()
            } catch .interrupted {
                return ExitStatus.ok
            }
        }
    }
}
