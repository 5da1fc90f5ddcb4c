#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import RouterClient
import RouterProtocol

struct Stats: RouterCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show route counts, revision, connections, watchers, uptime and memory.",
        discussion: """
            EXAMPLES:
              routerctl stats
              routerctl stats -o json
            """)

    @OptionGroup var global: GlobalOptions

    func execute(in context: Context) throws(ClientError) -> Int32 {
        let result = try context.call("stats")
        guard !context.quiet else { return ExitStatus.ok }
        if context.format == .json {
            context.json(result)
            return ExitStatus.ok
        }
        func n(_ v: JSONValue?) -> String { v.map { $0.integerValue.map(String.init) ?? ($0.stringValue ?? "?") } ?? "?" }
        let routes = result["routes"]
        let rss = Double(result["rss_bytes"]?.integerValue ?? 0) / 1_048_576
        let rows: [(String, String)] = [
            ("routes", "\(n(routes?["total"])) (host \(n(routes?["host"])), wildcard \(n(routes?["wildcard"])), tcp \(n(routes?["tcp"])))"),
            ("tunnels", n(result["tunnels"])),
            ("revision", "\(n(result["revision"])) (history from \(n(result["oldest_revision"])))"),
            ("connections", n(result["connections"])),
            ("watchers", n(result["watchers"])),
            ("sessions", n(result["sessions"])),
            ("uptime", DurationText.format(.seconds(result["uptime_s"]?.integerValue ?? 0))),
            ("memory", String(format1(rss)) + " MiB resident"),
            ("instance", result["instance"]?.stringValue ?? "?"),
        ]
        for (name, value) in rows {
            context.out(context.terminal.paint(name + ":", .bold) + String(repeating: " ", count: 13 - name.count) + value)
        }
        return ExitStatus.ok
    }

    func format1(_ x: Double) -> String {
        let tenths = Int((x * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

struct Ping: RouterCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that routerd answers; with --wait, retry until it does.",
        discussion: """
            For start-up scripts: `routerctl ping --wait 10s` returns 0 as soon as the daemon \
            answers, or 69 when it still does not after 10 seconds.

            EXAMPLES:
              routerctl ping
              routerd & routerctl ping --wait 10s -q && routerctl add foo --tunnel t1
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Keep retrying for this long.", valueName: "duration"))
    var wait: DurationArgument?

    func execute(in context: Context) throws(ClientError) -> Int32 {
        let deadline = wait.map { ContinuousClock.now + $0.value }
        while true {
            do {
                let started = ContinuousClock.now
                let client = try RouterClient(path: global.socketPath, timeout: global.timeout.value)
                try client.call("ping")
                let took = ContinuousClock.now - started
                guard !context.quiet else { return ExitStatus.ok }
                if context.format == .json {
                    context.json(.object([("server", .string(client.greeting.server)), ("version", .string(client.greeting.version)),
                                          ("instance", .string(client.greeting.instance)), ("revision", .number(client.greeting.revision))]))
                } else {
                    let ms = Double(took.components.attoseconds) / 1e15 + Double(took.components.seconds) * 1000
                    context.out("pong from \(client.greeting.server) \(client.greeting.version) at \(global.socketPath) " +
                                "(instance \(client.greeting.instance), revision \(client.greeting.revision), \(Int(ms * 10) / 10 == 0 ? "<0.1" : String(Double(Int(ms * 10)) / 10)) ms)")
                }
                return ExitStatus.ok
            } catch {
                guard let deadline, ContinuousClock.now < deadline, ExitStatus.of(error) == ExitStatus.unavailable else { throw error }
                var ts = timespec(tv_sec: 0, tv_nsec: 100_000_000)
                nanosleep(&ts, nil)
            }
        }
    }
}
