import ArgumentParser
import RouterClient
import RouterProtocol

struct History: RouterCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show recorded changes, newest first: who changed a route, when, from where.",
        discussion: """
            Needs a routerd started with --db (its state file keeps every change: the time, the \
            revision, the principal, the peer, and the route before and after). Prints REV, \
            TIME (UTC), TYPE, KEY, BY (principal and peer), TUNNEL and TARGET; -o json prints \
            one change a line with both routes. Users see the changes to their own routes, and \
            with namespaces those to their teams' routes (routerctl namespaces).

            EXAMPLES:
              routerctl history shop.example.com
              routerctl history --owner alice --since 24h
              routerctl history --tunnel t1 -o json
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Changes to this key only.", valueName: "key"), completion: .custom(routeKeyCompletion))
    var key: String?

    @Option(help: ArgumentHelp("Changes to this owner's routes (admins).", valueName: "user"))
    var owner: String?

    @Option(help: ArgumentHelp("Changes to this tunnel's routes.", valueName: "id"))
    var tunnel: String?

    @Option(help: ArgumentHelp("Changes in this last while (1h, 2d, …).", valueName: "duration"))
    var since: DurationArgument?

    @Option(help: ArgumentHelp("At most this many changes (100 when not given).", valueName: "n"))
    var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func execute(in context: Context) throws(ClientError) -> Int32 {
        let limit = self.limit ?? 100
        var base: [(String, JSONValue)] = []
        if let key { base.append(("key", .string(key))) }
        if let owner { base.append(("owner", .string(owner))) }
        if let tunnel { base.append(("tunnel", .string(tunnel))) }
        if let since { base.append(("since", .string(since.description))) }
        let client = try context.connection()
        var table = TextTable(headers: ["REV", "TIME", "TYPE", "KEY", "BY", "TUNNEL", "TARGET"])
        var before: Int64?
        var printed = 0
        var headerDone = false
        repeat {
            var args = base
            if let before { args.append(("before", .number(Int(before)))) }
            args.append(("limit", .number(min(1000, limit - printed))))
            let result = try client.call("history", args).result
            guard case .array(let entries)? = result["entries"] else { throw .malformedReply(JSONWriter.encode(result)) }
            printed += entries.count
            before = result["next"]?.integerValue
            guard !context.quiet else { continue }
            switch context.format {
            case .json:
                for entry in entries { context.json(entry) }
            case .name:
                for entry in entries { context.out(entry["key"]?.stringValue ?? "?") }
            case .table, .wide:
                let rows = entries.map(Self.cells)
                if !headerDone {
                    table.fit(rows)
                    if !rows.isEmpty || context.terminal.colorOut { context.out(table.header(context.terminal)) }
                    headerDone = true
                }
                for row in rows { context.out(table.line(row)) }
            }
        } while before != nil && printed < limit
        // Nothing at all would look like a hang or a failure: say so (not on stdout, which
        // scripts read, and not for -o json/name, whose empty output is the answer).
        if printed == 0, !context.quiet, context.format == .table || context.format == .wide {
            context.terminal.err(base.isEmpty ? "no changes recorded" : "no changes recorded for that")
        }
        return ExitStatus.ok
    }

    static func cells(_ entry: JSONValue) -> [String] {
        let route = entry["after"].flatMap { $0 == .null ? nil : $0 } ?? entry["before"] ?? .null
        let time = (entry["at"]?.stringValue ?? "?").replacingFirst("T", with: " ")
        var by = entry["principal"]?.stringValue ?? "?"
        if let peer = entry["peer"]?.stringValue, !peer.isEmpty { by += " (\(peer))" }
        return [String(entry["revision"]?.integerValue ?? 0), String(time.prefix(19)), entry["type"]?.stringValue ?? "?",
                entry["key"]?.stringValue ?? "?", by, route["tunnel"]?.stringValue ?? "-", route["target"]?.stringValue ?? "-"]
    }
}

private extension String {
    func replacingFirst(_ target: Character, with replacement: String) -> String {
        guard let i = firstIndex(of: target) else { return self }
        return String(self[..<i]) + replacement + String(self[index(after: i)...])
    }
}
