#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import RouterClient
import RouterProtocol

struct Watch: RouterCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print each change as it happens, until Ctrl-C.",
        discussion: """
            One line per event: revision, type (add, update, delete, expire), key, tunnel and \
            target. With --from-revision the daemon first replays its history from that revision \
            (inclusive), then the stream goes live; `-o json` prints each event object, including \
            the `sync` marker that says the replay is done. Ctrl-C ends the watch with status 0 \
            (in the shell: back to the prompt). A watch that falls too far behind is cut off by \
            the daemon (slow_consumer, status 70) rather than silently missing events. A user \
            sees the changes to their own routes and, with namespaces, to the routes of their \
            teams (routerctl namespaces); -n narrows the watch to one namespace.

            EXAMPLES:
              routerctl watch
              routerctl watch --prefix api. -o json
              routerctl watch -n web
              routerctl watch --from-revision 120
              routerctl watch --from-revision 120 --instance 5d4db46aa6c5be29
              routerctl watch --prefix shop. --count 1 -q   # wait for a change
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Replay events from this revision (inclusive) first.", valueName: "n"))
    var fromRevision: UInt64?

    @Option(help: ArgumentHelp("The daemon instance --from-revision belongs to (from `ping -o json` or an earlier watch); a restarted daemon then answers compacted (status 70) instead of replaying another instance's revisions.", valueName: "id"))
    var instance: String?

    @Option(help: ArgumentHelp("Only keys starting with this.", valueName: "prefix"), completion: .custom(routeKeyCompletion))
    var prefix: String?

    @Option(help: ArgumentHelp("Only routes of this tunnel.", valueName: "id"))
    var tunnel: String?

    @Option(name: [.customShort("n"), .long], help: ArgumentHelp("Only changes in this namespace (routerctl namespaces lists yours).", valueName: "name"),
            completion: .custom(namespaceCompletion))
    var namespace: String?

    @Option(help: ArgumentHelp("Exit 0 after this many changes (the replay's included; the sync marker does not count): a script's way to wait for a change.", valueName: "n"))
    var count: Int?

    func validate() throws {
        if instance != nil && fromRevision == nil { throw ValidationError("--instance goes with --from-revision") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
    }

    func execute(in context: Context) throws(ClientError) -> Int32 {
        Interrupt.catchSignals()
        let client = try context.connection()
        var args: [(String, JSONValue)] = []
        if let fromRevision {
            args.append(("from_revision", .number(fromRevision)))
            var instance = self.instance
            if instance == nil { instance = try client.greeting.instance }
            args.append(("instance", .string(instance ?? "")))
        }
        if let prefix { args.append(("prefix", .string(prefix))) }
        if let tunnel { args.append(("tunnel", .string(tunnel))) }
        if let namespace { args.append(("namespace", .string(namespace))) }
        let id = try client.send("watch", args)
        let watchID = JSONValue.number(String(id))
        let saved = client.timeout
        client.timeout = nil
        defer { client.timeout = saved }
        let table = TextTable(headers: ["REV", "TYPE", "KEY", "TUNNEL", "TARGET"])
        var widths = table
        widths.widths = [6, 6, 30, 20, 0]
        var cancelling = false
        var changes = 0
        while true {
            let line: ReplyLine
            do {
                line = try client.read()
            } catch .interrupted where !cancelling {
                if Interrupt.isTermination { return ExitStatus.ok }
                // Ctrl-C: end the watch cleanly so that the connection (the shell's) stays usable.
                Interrupt.reset()
                if isatty(1) == 1 { context.out("") }
                cancelling = true
                client.timeout = .seconds(2)
                _ = try client.send("cancel", [("watch", watchID)])
                continue
            } catch .interrupted {
                return ExitStatus.ok
            }
            guard line.id == watchID else { continue }
            switch line {
            case .event(_, let event):
                print(event, widths, in: context)
                if event["type"]?.stringValue != "sync" { changes += 1 }
                if let count, changes >= count { return ExitStatus.ok }
            case .success:
                return ExitStatus.ok
            case .failure(_, let error):
                return context.report(.daemon(error))
            case .route:
                continue
            }
        }
    }

    func print(_ event: JSONValue, _ table: TextTable, in context: Context) {
        let type = event["type"]?.stringValue ?? "?"
        guard !context.quiet else { return }
        switch context.format {
        case .json:
            context.json(event)
        case .name:
            if let key = event["key"]?.stringValue { context.out(key) }
        case .table, .wide:
            let revision = String(event["revision"]?.integerValue ?? 0)
            if type == "sync" {
                if context.terminal.colorOut || context.terminal.colorErr {
                    context.terminal.err(context.terminal.paint("-- caught up at revision \(revision); watching --", .dim, stderr: true))
                }
            } else {
                let route = event["route"] ?? .null
                let style: Terminal.Style = type == "add" ? .green : type == "update" ? .cyan : type == "expire" ? .yellow : .red
                let padded = type + String(repeating: " ", count: max(0, 6 - type.count))
                var cells = [revision, context.terminal.paint(padded, style),
                             event["key"]?.stringValue ?? "?",
                             route["tunnel"]?.stringValue ?? "-", route["target"]?.stringValue ?? "-"]
                cells[1] = context.terminal.paint(padded, style)
                var fixed = table
                fixed.widths[1] = cells[1].count
                context.out(fixed.line(cells))
            }
        }
        context.terminal.flush()
    }
}
