import DomainRouter
import RouterEngine
import Testing

/// Namespaces in the Prometheus exposition: what each holds, its quota, and adds refused for it.
@Suite("Namespace metrics")
struct NamespaceMetricsTests {
    @Test func eachNamespaceHasItsGaugesAndRefusalsUntilAReloadDropsIt() throws {
        let table = try RouteTable(configuration: RouteTableConfiguration(baseDomains: ["example.com"]), clock: ManualClock())
        table.setNamespaces(try NamespacePolicy([
            Namespace(name: "web", kind: .team, domains: ["web.example.com"], users: ["bob"], quota: Namespace.Quota(routes: 5)),
        ]))
        _ = try table.add(AddRequest(.key(try table.key("a.web.example.com")), tunnel: try TunnelID("t1")), as: .user("bob"))
        let metrics = RouterMetrics()
        metrics.refused(QuotaExceeded(limit: "routes", namespace: "web", member: nil, quota: 5, use: 5))
        func text(_ reports: [NamespaceReport]) -> String {
            String(decoding: metrics.exposition(stats: table.stats(), watchers: 0, connections: 0, namespaces: reports), as: UTF8.self)
        }
        let shown = text(table.namespaceUse())
        #expect(shown.contains(#"router_namespace_routes{namespace="web"} 1"#), "\(shown)")
        #expect(shown.contains(#"router_namespace_quota_routes{namespace="web"} 5"#))
        #expect(shown.contains(#"router_namespace_refusals_total{namespace="web",limit="routes"} 1"#))
        // A reload without the namespace: its gauges go.
        table.setNamespaces(nil)
        #expect(!text(table.namespaceUse()).contains(#"router_namespace_routes{namespace="web"}"#))
    }
}
