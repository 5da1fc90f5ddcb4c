import ArgumentParser
import RouterClient
import RouterProtocol

struct Touch: RouterCommand {
    static let configuration = CommandConfiguration(
        abstract: "Renew a route's expiry (or every route of a tunnel's, with uuid:ID).",
        usage: "routerctl touch [<options>] <key> [--ttl <duration>]",
        discussion: """
            Without --ttl each route keeps its own TTL, counted again from now.

            EXAMPLES:
              routerctl touch foo.example.com
              routerctl touch uuid:t1 --ttl 10m
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("A route key, or uuid:ID for a whole tunnel.", valueName: "key"),
              completion: .custom(routeKeyCompletion))
    var key: String

    @Option(help: ArgumentHelp("A new TTL: 30s, 5m, 2h, 1h30m.", valueName: "duration"))
    var ttl: DurationArgument?

    func execute(in context: Context) throws(ClientError) -> Int32 {
        var args: [(String, JSONValue)] = [("key", .string(key))]
        if let ttl { args.append(("ttl", .number(ttl.seconds))) }
        let result = try context.call("touch", args)
        if case .array(let routes)? = result["routes"] {
            context.printRoutes(routes, result: result)
        } else {
            context.printRoutes([result["route"] ?? .null], result: result)
        }
        return ExitStatus.ok
    }
}
