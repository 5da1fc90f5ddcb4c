import DomainRouter
import Prometheus
import RouterProtocol

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
    }

    /// Counts one answered operation.
    package func count(_ op: Operation, code: String, transport: Transport) {
        let opIndex = Operation.allCases.firstIndex(of: op)!
        let codeIndex = codes.firstIndex(of: code) ?? codes.firstIndex(of: "internal")!
        operations[(opIndex * codes.count + codeIndex) * Transport.allCases.count + transport.rawValue].increment()
    }

    package func lookupTook(_ duration: Duration) { lookupDuration.record(duration) }
    package func slowConsumerCut() { slowConsumers.increment() }
    package func expired(_ count: Int) { if count > 0 { expired.increment(by: Int64(count)) } }

    /// The metrics in Prometheus's text format, with the gauges read now.
    package func exposition(stats: TableStats, watchers: Int, connections: Int) -> [UInt8] {
        routes[RouteKind.allCases.firstIndex(of: .host)!].set(Double(stats.hosts))
        routes[RouteKind.allCases.firstIndex(of: .wildcard)!].set(Double(stats.wildcards))
        routes[RouteKind.allCases.firstIndex(of: .tcp)!].set(Double(stats.tcp))
        revision.set(Double(stats.revision))
        self.watchers.set(Double(watchers))
        self.connections.set(Double(connections))
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
}
