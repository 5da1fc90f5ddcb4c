import DomainRouter
import Prometheus
import RouterProtocol
import Synchronization

/// The daemon's Prometheus metrics (swift-prometheus), counted where the operations run (the
/// executor) and read by any front end that exposes them (the HTTP API's `GET /metrics`).
///
/// Counters for every operation, code and transport are made once up front, so counting one is
/// an atomic add on the hot path, never a registry lookup. Gauges that the table already knows
/// (routes by kind, the revision) are set when the metrics are read.
package final class RouterMetrics: Sendable {
    /// The front ends, as the `transport` label names them.
    package enum Transport: Int, CaseIterable, Sendable {
        case socket, http
        var label: String { self == .socket ? "socket" : "http" }
    }

    let registry: PrometheusCollectorRegistry
    private let operations: [Counter]
    private let codes: [String]
    private let lookupDuration: DurationHistogram
    private let slowConsumers: Counter
    private let expired: Counter
    private let routes: [Gauge]
    private let revision: Gauge
    private let watchers: Gauge
    private let connections: Gauge
    private let httpConnections: Gauge
    /// Each namespace's gauges (routes, TCP ports, route quota), by namespace: made as
    /// namespaces appear, dropped when a reload removes one.
    private let namespaceGauges = Mutex<[String: [Gauge]]>([:])
    /// DNS query counters by type, code and transport, made on first use.
    private let dnsCounters = Mutex<[String: Counter]>([:])

    package init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        codes = ["ok"] + ErrorCode.allCases.map(\.rawValue) + ["unauthorized"]
        var operations: [Counter] = []
        for op in Operation.allCases {
            for code in codes {
                for transport in Transport.allCases {
                    operations.append(registry.makeCounter(
                        descriptor: MetricNameDescriptor(namespace: "router", metricName: "operations", unitName: "total",
                                                         helpText: "Operations answered, by operation, outcome code and front end."),
                        labels: [("op", op.rawValue), ("code", code), ("transport", transport.label)]))
                }
            }
        }
        self.operations = operations
        lookupDuration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "router", metricName: "lookup_duration", unitName: "seconds",
                                             helpText: "Time the table takes to answer a lookup (canonicalization and match)."),
            buckets: [.nanoseconds(500), .microseconds(1), .microseconds(2), .microseconds(5), .microseconds(10),
                      .microseconds(50), .microseconds(100), .milliseconds(1)])
        slowConsumers = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "router", metricName: "slow_consumers", unitName: "total", helpText: "Watchers cut for not reading."))
        expired = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "router", metricName: "expired", unitName: "total", helpText: "Routes removed because their TTL or session grace ran out."))
        routes = RouteKind.allCases.map { kind in
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "router", metricName: "routes", unitName: "",
                                                                helpText: "Routes in the table, by kind."),
                               labels: [("kind", kind.rawValue)])
        }
        revision = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "router", metricName: "revision", unitName: "", helpText: "The table's current revision."))
        watchers = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "router", metricName: "watchers", unitName: "", helpText: "Watches streaming now."))
        connections = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "router", metricName: "connections", unitName: "", helpText: "Open connections, by front end."),
                                         labels: [("transport", "socket")])
        httpConnections = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "router", metricName: "connections", unitName: "", helpText: "Open connections, by front end."),
                                             labels: [("transport", "http")])
    }

    /// Counts answered operations (one, unless `times` says more).
    package func count(_ op: Operation, code: String, transport: Transport, times: Int = 1) {
        guard times > 0 else { return }
        let opIndex = Operation.allCases.firstIndex(of: op)!
        operations[(opIndex * codes.count + index(of: code)) * Transport.allCases.count + transport.rawValue]
            .increment(by: Int64(times))
    }

    package func lookupTook(_ duration: Duration) { lookupDuration.record(duration) }

    /// Lookups a front end counted itself (the socket, per connection), handed over once per
    /// read burst: a counter shared by every event loop, bumped per lookup, would bounce its
    /// cache line between cores on the hot path.
    package struct LookupTally: Sendable {
        /// Lookups answered since the last flush, by outcome code (index into `codes`).
        var byCode: [Int]
        var pending = 0
        /// Every lookup so far; one in `sampling` is timed.
        var seen = 0

        /// One lookup in this many is timed into the histogram.
        static let sampling = 16
    }

    package func makeLookupTally() -> LookupTally { LookupTally(byCode: Array(repeating: 0, count: codes.count)) }

    func index(of code: String) -> Int { codes.firstIndex(of: code) ?? codes.firstIndex(of: "internal")! }

    /// Adds a tally's lookups to the counters and empties it.
    package func flush(_ tally: inout LookupTally, transport: Transport) {
        guard tally.pending > 0 else { return }
        let opIndex = Operation.allCases.firstIndex(of: .lookup)!
        for (codeIndex, n) in tally.byCode.enumerated() where n > 0 {
            operations[(opIndex * codes.count + codeIndex) * Transport.allCases.count + transport.rawValue].increment(by: Int64(n))
            tally.byCode[codeIndex] = 0
        }
        tally.pending = 0
    }
    package func slowConsumerCut() { slowConsumers.increment() }
    package func expired(_ count: Int) { if count > 0 { expired.increment(by: Int64(count)) } }

    /// The metrics in Prometheus's text format, with the gauges read now.
    package func exposition(stats: TableStats, watchers: Int, connections: Int, httpConnections: Int = 0,
                            namespaces: [NamespaceReport] = []) -> [UInt8] {
        setNamespaces(namespaces)
        routes[RouteKind.allCases.firstIndex(of: .host)!].set(Double(stats.hosts))
        routes[RouteKind.allCases.firstIndex(of: .wildcard)!].set(Double(stats.wildcards))
        routes[RouteKind.allCases.firstIndex(of: .tcp)!].set(Double(stats.tcp))
        revision.set(Double(stats.revision))
        self.watchers.set(Double(watchers))
        self.connections.set(Double(connections))
        self.httpConnections.set(Double(httpConnections))
        return registry.emitToBuffer()
    }
}

extension RouterMetrics {
    /// Counts an operation by its result.
    func count<T>(_ op: Operation, _ result: Result<T, RouteError>, _ caller: Caller) {
        switch result {
        case .success: count(op, code: "ok", transport: caller.transport)
        case .failure(let error): count(op, code: error.code.rawValue, transport: caller.transport)
        }
    }

    /// Counts a refusal in `namespace` by its code, and a `quota_exceeded` by its limit too.
    package func refused(_ error: RouteError, in namespace: String) {
        registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "router", metricName: "namespace_refusals", unitName: "total",
            helpText: "Operations refused on keys in a namespace (and adds past its quotas), by namespace and code."),
                             labels: [("namespace", namespace), ("code", error.code.rawValue)]).increment()
        guard let quota = error.quota else { return }
        registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "router", metricName: "namespace_quota_refusals", unitName: "total",
            helpText: "Adds refused with quota_exceeded, by namespace and limit (routes, tcp_ports, session_routes, ttl)."),
                             labels: [("namespace", quota.namespace), ("limit", quota.limit)]).increment()
    }

    /// Counts a DNS query by its type (`A`, …, `other`), the response code sent (`NOERROR`,
    /// `NXDOMAIN`, …, or `dropped`) and the transport (`udp`, `tcp`).
    package func dnsQuery(type: String, code: String, transport: String) {
        let key = type + "|" + code + "|" + transport
        if let counter = dnsCounters.withLock({ $0[key] }) {
            counter.increment()
            return
        }
        let counter = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "router", metricName: "dns_queries", unitName: "total",
            helpText: "DNS queries answered (or dropped), by query type, response code and transport."),
                                           labels: [("type", type), ("rcode", code), ("transport", transport)])
        dnsCounters.withLock { $0[key] = counter }
        counter.increment()
    }

    /// Sets each namespace's gauges: routes and TCP ports held, and the route quota (-1: none).
    func setNamespaces(_ reports: [NamespaceReport]) {
        namespaceGauges.withLock { gauges in
            let names = Set(reports.map(\.namespace.name))
            for (name, old) in gauges where !names.contains(name) {
                for gauge in old { registry.unregisterGauge(gauge) }
                gauges[name] = nil
            }
            for report in reports {
                let name = report.namespace.name
                let set = gauges[name] ?? [("namespace_routes", "Routes held in a namespace."),
                                           ("namespace_tcp_ports", "tcp:N routes held in a namespace."),
                                           ("namespace_quota_routes", "A namespace's route quota (-1: none).")].map { metric, help in
                    registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "router", metricName: metric, unitName: "", helpText: help),
                                       labels: [("namespace", name)])
                }
                gauges[name] = set
                set[0].set(Double(report.routes))
                set[1].set(Double(report.tcpPorts))
                set[2].set(Double(report.namespace.quota.routes ?? -1))
            }
        }
    }
}
