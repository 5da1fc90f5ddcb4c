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
        abstract: "Show route counts, revision, connections, watchers, uptime, memory and the store.",
        usage: "routerctl stats [<options>]",
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
        var rows: [(String, String)] = [
            ("routes", "\(n(routes?["total"])) (host \(n(routes?["host"])), wildcard \(n(routes?["wildcard"])), tcp \(n(routes?["tcp"])))"),
            ("tunnels", n(result["tunnels"])),
            ("revision", "\(n(result["revision"])) (history from \(n(result["oldest_revision"])))"),
            ("connections", result["http_connections"].map { "\(n(result["connections"])) socket, \(n($0)) HTTP" } ?? n(result["connections"])),
            ("watchers", n(result["watchers"])),
            ("sessions", n(result["sessions"])),
            ("uptime", DurationText.format(.seconds(result["uptime_s"]?.integerValue ?? 0))),
            ("memory", String(format1(rss)) + " MiB resident"),
            ("instance", result["instance"]?.stringValue ?? "?"),
        ]
        if let store = result["store"], store["kind"] != .string("memory") {
            var text = store["location"]?.stringValue ?? store["kind"]?.stringValue ?? "?"
            if store["available"] == .bool(false) {
                text += ": UNAVAILABLE (\(store["problem"]?.stringValue ?? "no answer"))"
            } else if store["revision"] != nil {
                text += ", revision \(n(store["revision"]))"
                if let behind = store["behind"]?.integerValue, behind > 0 { text += ", \(behind) behind" }
            }
            rows.append(("store", text))
        }
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
