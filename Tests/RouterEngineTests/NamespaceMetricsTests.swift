import DomainRouter
import Logging
import RouterEngine
import Testing

/// Namespaces in the Prometheus exposition: what each holds, its quota, and the operations
/// refused in it (by code, and quota refusals by limit), counted where the executor answers.
@Suite("Namespace metrics")
struct NamespaceMetricsTests {
    @Test func refusalsAreCountedByNamespaceAndCodeAndGaugesGoWithTheNamespace() async throws {
        let table = try RouteTable(configuration: RouteTableConfiguration(baseDomains: ["example.com"]), clock: ManualClock())
        table.setNamespaces(try NamespacePolicy([
            Namespace(name: "web", kind: .team, domains: ["web.example.com"], users: ["bob"], quota: Namespace.Quota(routes: 1)),
        ]))
        let metrics = RouterMetrics()
        let executor = RequestExecutor(store: MemoryStore(table: table), instance: "test", metrics: metrics)
        func caller(_ name: String) -> Caller {
            Caller(principal: .user(name), session: 0, logger: Logger(label: "test"))
        }
        func add(_ key: String, as name: String) async throws -> Result<AddResult, RouteError> {
            let request = AddRequest(.key(try table.key(key)), tunnel: try TunnelID("t-\(name)"))
            return await withCheckedContinuation { done in
                executor.add([request], as: caller(name)) { done.resume(returning: $0[0]) }
            }
        }
        guard case .success = try await add("a.web.example.com", as: "bob") else { Issue.record("bob's first add"); return }
        #expect(try await add("b.web.example.com", as: "bob").failure?.code == .quotaExceeded)
        #expect(try await add("c.web.example.com", as: "carol").failure?.code == .forbidden)
        #expect(try await add("free.example.com", as: "carol").failure == nil)   // outside every namespace: not counted
        #expect(throws: RouteError.self) { try executor.lookup(.key("a.web.example.com"), as: caller("carol")) }

        func text(_ reports: [NamespaceReport]) -> String {
            String(decoding: metrics.exposition(stats: table.stats(), watchers: 0, connections: 0, namespaces: reports), as: UTF8.self)
        }
        let shown = text(table.namespaceUse())
        #expect(shown.contains(#"router_namespace_routes{namespace="web"} 1"#), "\(shown)")
        #expect(shown.contains(#"router_namespace_quota_routes{namespace="web"} 1"#))
        #expect(shown.contains(#"router_namespace_refusals_total{namespace="web",code="quota_exceeded"} 1"#))
        #expect(shown.contains(#"router_namespace_refusals_total{namespace="web",code="forbidden"} 2"#))
        #expect(shown.contains(#"router_namespace_quota_refusals_total{namespace="web",limit="routes"} 1"#))
        // A reload without the namespace: its gauges go.
        table.setNamespaces(nil)
        #expect(!text(table.namespaceUse()).contains(#"router_namespace_routes{namespace="web"}"#))
    }
}

extension Result {
    /// The error, if it failed.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
