import ArgumentParser
import RouterClient
import RouterProtocol

/// `routerctl set`: the protocol's `update` (`Set` would hide Swift's own).
struct SetCommand: RouterCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Change a route's target, labels or access rules in place.",
        usage: "routerctl set [<options>] <key> [--target <host:port>] [--label <k=v>]",
        discussion: """
            The route keeps its key, tunnel, owner, session and expiry; one update event says what \
            changed. Only what is given changes: --label gives every label the route is to \
            have (the old ones go), --allow and --deny replace their lists. Your own routes \
            only (an admin's: any).

            EXAMPLES:
              routerctl set api --target 127.0.0.1:9090
              routerctl set api --label env=prod --label team=web
              routerctl set api --allow 10.0.0.0/8 --deny 10.1.0.0/16
              routerctl set api --no-target
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The route's key.", valueName: "key"), completion: .custom(routeKeyCompletion))
    var key: String

    @Option(help: ArgumentHelp("Where the gateway forwards: host:port, [v6]:port or unix:/path.", valueName: "host:port"))
    var target: String?

    @Flag(help: "Take the target away (the tunnel is offline: gateways answer 502).")
    var noTarget = false

    @Option(help: ArgumentHelp("A label k=v; repeat for several. The route's labels become exactly these.", valueName: "k=v"))
    var label: [String] = []

    @Flag(help: "Remove every label.")
    var noLabels = false

    @Option(help: ArgumentHelp("An address block that may connect; repeat for several. Replaces the allow list.", valueName: "cidr"))
    var allow: [String] = []

    @Flag(help: "Empty the allow list (everyone not denied may connect).")
    var noAllow = false

    @Option(help: ArgumentHelp("An address block refused; repeat for several. Replaces the deny list.", valueName: "cidr"))
    var deny: [String] = []

    @Flag(help: "Empty the deny list.")
    var noDeny = false

    func validate() throws {
        if target != nil && noTarget { throw ValidationError("--target and --no-target do not go together") }
        if !label.isEmpty && noLabels { throw ValidationError("--label and --no-labels do not go together") }
        if !allow.isEmpty && noAllow { throw ValidationError("--allow and --no-allow do not go together") }
        if !deny.isEmpty && noDeny { throw ValidationError("--deny and --no-deny do not go together") }
        _ = try parseLabels(label)
        if arguments.count == 1 {
            throw ValidationError("set changes something: give --target, --no-target, --label, --no-labels, --allow, --no-allow, --deny or --no-deny")
        }
    }

    /// The protocol's `update` fields.
    var arguments: [(String, JSONValue)] {
        var args: [(String, JSONValue)] = [("key", .string(key))]
        if let target { args.append(("target", .string(target))) }
        if noTarget { args.append(("target", .null)) }
        if !label.isEmpty { args.append(("labels", .object((try? parseLabels(label)) ?? []))) }
        if noLabels { args.append(("labels", .object([]))) }
        if !allow.isEmpty || noAllow { args.append(("allow", .array(allow.map { .string($0) }))) }
        if !deny.isEmpty || noDeny { args.append(("deny", .array(deny.map { .string($0) }))) }
        return args
    }

    func execute(in context: Context) throws(ClientError) -> Int32 {
        let result = try context.call("update", arguments)
        context.printRoutes([result["route"] ?? .null], result: result)
        return ExitStatus.ok
    }
}
