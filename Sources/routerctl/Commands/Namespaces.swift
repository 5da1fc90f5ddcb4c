import ArgumentParser
import RouterClient
import RouterProtocol

struct Namespaces: RouterCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the namespaces you belong to (admins: all), with their use against their quotas.",
        usage: "routerctl namespaces [<options>]",
        discussion: """
            Namespaces come from routerd's configuration file (routerd(8), CONFIGURATION FILE). \
            Each line: the namespace, its kind (team or user), its domains, routes and TCP ports \
            held against the namespace's quota, and OVER QUOTA when a reload lowered a quota \
            below what is held (nothing is removed; adds are refused until it is back under).

            EXAMPLES:
              routerctl namespaces
              routerctl namespaces -o json
            """)

    @OptionGroup var global: GlobalOptions

    func execute(in context: Context) throws(ClientError) -> Int32 {
        let result = try context.call("stats")
        guard !context.quiet else { return ExitStatus.ok }
        guard case .array(let namespaces)? = result["namespaces"] else {
            if context.format == .json { context.json(.array([])) }
            return ExitStatus.ok
        }
        if context.format == .json {
            for namespace in namespaces { context.json(namespace) }
            return ExitStatus.ok
        }
        func text(_ v: JSONValue?) -> String {
            guard case .array(let items)? = v else { return "-" }
            let names = items.compactMap(\.stringValue)
            return names.isEmpty ? "-" : names.joined(separator: ",")
        }
        func use(_ held: JSONValue?, _ quota: JSONValue?) -> String {
            let n = held?.integerValue ?? 0
            return quota?.integerValue.map { "\(n)/\($0)" } ?? "\(n)"
        }
        var rows: [[String]] = [["NAMESPACE", "KIND", "DOMAINS", "ROUTES", "TCP", "MEMBERS", ""]]
        for namespace in namespaces {
            let members = namespace["members"]
            let who = [text(members?["users"]), text(members?["groups"]).split(separator: ",").map { "@" + $0 }.joined(separator: ",")]
                .filter { $0 != "-" && !$0.isEmpty && $0 != "@-" }.joined(separator: ",")
            rows.append([
                namespace["name"]?.stringValue ?? "?",
                namespace["kind"]?.stringValue ?? "?",
                text(namespace["domains"]),
                use(namespace["use"]?["routes"], namespace["quota"]?["routes"]),
                use(namespace["use"]?["tcp_ports"], namespace["quota"]?["tcp_ports"]),
                who.isEmpty ? "-" : who,
                namespace["over_quota"] == .bool(true) ? context.terminal.paint("OVER QUOTA", .bold) : "",
            ])
        }
        let widths = (0..<7).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let line = row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
            context.out(String(line.reversed().drop { $0 == " " }.reversed()))
        }
        return ExitStatus.ok
    }
}
