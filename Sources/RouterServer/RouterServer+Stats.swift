import DomainRouter
import RouterEngine
import RouterProtocol

extension RouterServer {
    /// What `stats` answers on the socket and `GET /stats` over HTTP: route counts, revisions,
    /// connections, watchers, uptime, memory and the store, with who the daemon is (`server`,
    /// `version`, `instance`) and its longest accepted line (`max_line`), which is also the
    /// longest HTTP body. `namespaces` lists those `principal` may see (an admin: all).
    package func statsObject(for principal: Principal = .admin("routerd")) -> JSONValue {
        let stats = executor.stats()
        let (connections, watchers) = counts
        return .object([
            ("routes", .object([
                ("host", .number(stats.hosts)), ("wildcard", .number(stats.wildcards)),
                ("tcp", .number(stats.tcp)), ("total", .number(stats.total)),
            ])),
            ("tunnels", .number(stats.tunnels)),
            ("revision", .number(stats.revision)),
            ("oldest_revision", .number(stats.oldestRevision)),
            ("connections", .number(connections)),
            ("http_connections", .number(httpConnectionCount)),
            ("watchers", .number(watchers)),
            ("sessions", .number(stats.sessions)),
            ("uptime_s", .number(Int(uptime.components.seconds))),
            ("rss_bytes", .number(ProcessFacts.residentBytes())),
            ("server", .string("routerd")),
            ("version", .string(RouterServer.version)),
            ("instance", .string(executor.instance)),
            ("max_line", .number(configuration.maximumLineLength)),
            ("store", Wire.store(executor.store.status, tableRevision: stats.revision, full: true)),
            ("namespaces", Wire.namespaces(table.namespaceUse(for: principal))),
        ])
    }
}
