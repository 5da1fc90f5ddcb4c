import ArgumentParser
import RouterClient
import RouterProtocol

struct DNS: RouterCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns",
        abstract: "Show what routerd's DNS answers for a name, and why.",
        usage: "routerctl dns [<options>] <name> [<type>]",
        discussion: """
            Asks the daemon (routerd --dns) what it answers for NAME and TYPE (default A): the \
            response code, the records, and the table's reason — routed by its own route or by \
            a wildcard, the zone's apex, a name that exists only as an ancestor of routes \
            (NODATA), a name nothing is routed at or below (NXDOMAIN, exit status 1), or a name \
            in none of the zones (REFUSED, exit status 1). -o json prints the whole answer.

            EXAMPLES:
              routerctl dns app.example.com
              routerctl dns app.example.com AAAA
              routerctl dns example.com SOA -o json
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The name asked.", valueName: "name"), completion: .custom(routeKeyCompletion))
    var name: String

    @Argument(help: ArgumentHelp("The record type asked: A, AAAA, TXT, SOA, NS, ANY, TYPEnn…", valueName: "type"))
    var type: String = "A"

    func execute(in context: Context) throws(ClientError) -> Int32 {
        let result = try context.call("dns", [("name", .string(name)), ("type", .string(type))])
        let rcode = result["rcode"]?.stringValue ?? "?"
        let status = rcode == "NXDOMAIN" || rcode == "REFUSED" ? ExitStatus.notFound : ExitStatus.ok
        guard !context.quiet else { return status }
        if context.format == .json {
            context.json(result)
            return status
        }
        let asked = "\(result["name"]?.stringValue ?? name) \(result["type"]?.stringValue ?? type)"
        let zone = result["zone"]?.stringValue.map { "zone \($0)" } ?? "no zone"
        let why: String
        switch result["resolution"]?.stringValue {
        case "routed":
            let via = result["via"]?.stringValue ?? "?"
            why = result["match"]?.stringValue == "wildcard" ? "routed by the wildcard \(via)" : "routed by \(via)"
        case "nameserver": why = "a name server of the zones (--dns-ns)"
        case "apex": why = "the zone's apex"
        case "empty_non_terminal": why = "not routed, but routes lie below it"
        case "nonexistent": why = "nothing is routed at or below it"
        case "outside": why = "in none of the zones (--dns-zone)"
        default: why = "?"
        }
        context.out("\(asked): \(rcode), \(why) (\(zone))")
        func records(_ field: String) -> [String] {
            guard case .array(let items)? = result[field] else { return [] }
            return items.compactMap(\.stringValue)
        }
        let answers = records("answers")
        for record in answers.isEmpty ? records("authority") : answers { context.out(record) }
        return status
    }
}
