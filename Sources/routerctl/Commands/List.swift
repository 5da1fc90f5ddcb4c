import ArgumentParser
import RouterClient
import RouterProtocol

struct List: RouterCommand {
    static let configuration = CommandConfiguration(
        abstract: "List routes in key order, streamed a page at a time.",
        discussion: """
            Prints an aligned table (key, tunnel, target, owner, expires; -o wide adds kind, \
            session, revisions and labels). Routes stream from the daemon a page at a time, so a \
            million routes never sit in memory at once. Users see only their own routes, and with \
            namespaces their teams' (routerctl namespaces). \
            -o json prints one route object per line (NDJSON), which `routerctl batch` reads back \
            to register the same routes again.

            EXAMPLES:
              routerctl list
              routerctl list --prefix api. --kind host -o wide
              routerctl list --tunnel t1 -o name
              routerctl list -o json > routes.ndjson && routerctl batch -f routes.ndjson
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Keys starting with this.", valueName: "prefix"), completion: .custom(routeKeyCompletion))
    var prefix: String?

    @Option(help: ArgumentHelp("Routes of this tunnel.", valueName: "id"))
    var tunnel: String?

    @Option(help: ArgumentHelp("Routes of this owner (admins).", valueName: "user"))
    var owner: String?

    @Option(help: ArgumentHelp("host, wildcard or tcp.", valueName: "kind"))
    var kind: String?

    @Option(help: ArgumentHelp("Routes with this label (k=v).", valueName: "k=v"))
    var label: String?

    @Option(name: [.customShort("n"), .long], help: ArgumentHelp("Routes in this namespace (routerctl namespaces lists yours).", valueName: "name"),
            completion: .custom(namespaceCompletion))
    var namespace: String?

    @Option(help: ArgumentHelp("At most this many routes.", valueName: "n"))
    var limit: Int?

    @Flag(help: "List the names held for their last owners instead of routes (routerd --db --hold-released): key, owner, and until when.")
    var held = false

    @Option(help: .hidden)
    var pageSize = 1000

    func validate() throws {
        if let kind, !["host", "wildcard", "tcp"].contains(kind) {
            throw ValidationError("--kind is host, wildcard or tcp, not '\(kind)'")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if pageSize < 1 { throw ValidationError("--page-size must be at least 1") }
        if held && (tunnel != nil || kind != nil || label != nil || limit != nil || namespace != nil) {
            throw ValidationError("--held takes --prefix and --owner only")
        }
    }

    func execute(in context: Context) throws(ClientError) -> Int32 {
        if held { return try listHeld(in: context) }
        var base: [(String, JSONValue)] = []
        if let prefix { base.append(("prefix", .string(prefix))) }
        if let tunnel { base.append(("tunnel", .string(tunnel))) }
        if let owner { base.append(("owner", .string(owner))) }
        if let kind { base.append(("kind", .string(kind))) }
        if let label { base.append(("label", .string(label))) }
        if let namespace { base.append(("namespace", .string(namespace))) }
        let client = try context.connection()
        let wide = context.format == .wide
        var table = TextTable(headers: RouteText.headers(wide: wide))
        var after: String?
        var printed = 0
        var headerDone = false
        repeat {
            var args = base
            if let after { args.append(("after", .string(after))) }
            let want = min(pageSize, (limit ?? Int.max) - printed)
            args.append(("limit", .number(want)))
            var page: [JSONValue] = []
            let result: JSONValue
            do {
                result = try client.call("list", args) { (line: ReplyLine) throws(ClientError) -> Bool in
                    if case .route(_, let route) = line { page.append(route) }
                    return true
                }.result
            } catch .interrupted where context.inShell {
                // Ctrl-C in the shell: the rest of this page is read and dropped, so that the
                // shell's connection (and the session routes it holds) stays.
                try client.discardUntilLastReply()
                Interrupt.reset()
                context.terminal.err("interrupted: \(printed) routes shown; the connection is kept")
                return ExitStatus.interrupted
            }
            printed += page.count
            after = result["next"]?.stringValue
            guard !context.quiet else { continue }
            switch context.format {
            case .json:
                for route in page { context.json(route) }
            case .name:
                for route in page { context.out(route["key"]?.stringValue ?? "?") }
            case .table, .wide:
                let rows = page.map { RouteText.cells($0, wide: wide) }
                if !headerDone {
                    table.fit(rows)
                    if !rows.isEmpty || context.terminal.colorOut { context.out(table.header(context.terminal)) }
                    headerDone = true
                }
                for row in rows { context.out(table.line(row)) }
            }
        } while after != nil && printed < (limit ?? Int.max)
        return ExitStatus.ok
    }

    /// `--held`: the names kept for their last owners.
    func listHeld(in context: Context) throws(ClientError) -> Int32 {
        var args: [(String, JSONValue)] = []
        if let prefix { args.append(("prefix", .string(prefix))) }
        if let owner { args.append(("owner", .string(owner))) }
        let result = try context.call("holds", args)
        guard case .array(let names)? = result["holds"] else { throw .malformedReply(JSONWriter.encode(result)) }
        guard !context.quiet else { return ExitStatus.ok }
        switch context.format {
        case .json:
            for name in names { context.json(name) }
        case .name:
            for name in names { context.out(name["key"]?.stringValue ?? "?") }
        case .table, .wide:
            let now = WallClock.nowMilliseconds
            var table = TextTable(headers: ["KEY", "HELD FOR", "UNTIL"])
            let rows = names.map { name in
                [name["key"]?.stringValue ?? "?", name["owner"]?.stringValue ?? "?",
                 RouteText.expires(name["until"]?.stringValue, now: now)]
            }
            table.fit(rows)
            if !rows.isEmpty || context.terminal.colorOut { context.out(table.header(context.terminal)) }
            for row in rows { context.out(table.line(row)) }
        }
        return ExitStatus.ok
    }
}
