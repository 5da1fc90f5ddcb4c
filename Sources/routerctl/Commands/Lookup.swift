import ArgumentParser
import RouterClient
import RouterProtocol

struct Lookup: RouterCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find the route a key, a raw Host header value or an SNI name goes to.",
        usage: "routerctl lookup [<options>] <host-or-key> [--sni]",
        discussion: """
            tcp:N, uuid:ID and *.wildcard arguments are looked up as keys, and so are a bare \
            label (foo: the name under the only base domain, as add, delete and touch read it) \
            and a name with Unicode in it (bücher.example.com); anything else as a raw HTTP Host \
            header value (case, spaces around it, a port and a \
            trailing dot are dealt with as a gateway would; ASCII only, as on the wire), or as a \
            TLS SNI name with --sni. Shows the route and why it matched: exact, or which \
            wildcard. A miss says so and exits 1. Another owner's target and labels show to \
            admins and teammates only; a name in a namespace you do not belong to is refused \
            (status 77) whether or not it is routed.

            EXAMPLES:
              routerctl lookup 'FOO.Example.COM:8443'
              routerctl lookup --sni web.apps.example.com
              routerctl lookup tcp:49001
              routerctl lookup uuid:t1 -o json
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("A key, a Host header value, or (with --sni) an SNI name.", valueName: "host-or-key"),
              completion: .custom(routeKeyCompletion))
    var value: String

    @Flag(help: "Treat the argument as a TLS SNI name rather than a Host header value.")
    var sni = false

    var field: String { Lookup.field(for: value, sni: sni) }

    /// The request field for a lookup argument: `key` for tcp:, uuid:, tunnel: and *. keys and
    /// for a bare label (no dot, no port: a name under the only base domain), else `host` (a raw
    /// Host header value) or, with --sni, `sni`.
    static func field(for value: String, sni: Bool) -> String {
        if sni { return "sni" }
        for prefix in ["tcp:", "uuid:", "tunnel:", "*."] where value.hasPrefix(prefix) { return "key" }
        if !value.isEmpty && !value.contains(".") && !value.contains(":") && !value.contains("\u{3002}")
            && !value.contains("\u{FF0E}") && !value.contains("\u{FF61}") {
            return "key"
        }
        // A person who types Unicode means a name (bücher.example.com), not a wire value:
        // Host headers are ASCII, so such a value would never route as one.
        if value.utf8.contains(where: { $0 >= 0x80 }) { return "key" }
        return "host"
    }

    func execute(in context: Context) throws(ClientError) -> Int32 {
        let result = try context.call("lookup", [(field, .string(value))])
        if case .array(let routes)? = result["routes"] {
            context.printRoutes(routes, result: result)
            return ExitStatus.ok
        }
        let match = result["match"]?.stringValue ?? "exact"
        let via = result["via"]?.stringValue ?? ""
        let why = match == "exact" ? "exact" : "wildcard \(via)"
        context.printRoutes([result["route"] ?? .null], result: result, extra: (["MATCH"], [[why]]))
        return ExitStatus.ok
    }
}
