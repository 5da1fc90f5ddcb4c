import Dispatch
import DomainRouter
import RouterTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `router-bench table`: loads a million routes and measures lookups, adds and removes against
/// a plain `[String: Int]` baseline run in the same process on the same query strings.
struct TableBenchmark {
    var routes = 1_000_000
    var rounds = 15
    var lookupsPerRound = 200_000
    /// `--profile hit|miss|wildcard`: after loading, run only that lookup loop (for perf).
    var profile: String?

    /// Deterministic labels, so runs compare; the table's own hash seed is random per process.
    typealias SplitMix = SplitMix64

    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)

    static func label(_ rng: inout SplitMix, length: Int = 10) -> String {
        var bytes = [UInt8](repeating: 0, count: length)
        for i in 0..<length { bytes[i] = alphabet[Int(rng.next() % 36)] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A separate String instance with the same contents, as a request parser would build it.
    static func fresh(_ s: String) -> String {
        String(decoding: Array(s.utf8), as: UTF8.self)
    }

    func run() throws {
        let admin = Principal.admin("bench")
        let tcpCount = 50_000
        let wildcardCount = routes / 10
        let exactCount = routes - tcpCount - wildcardCount
        print("router-bench table: \(routes) routes (\(exactCount) exact, \(wildcardCount) wildcard, \(tcpCount) tcp), one tunnel per route")
        print("machine: \(ProcessInfoLite.cpuCount) cores; rounds: \(rounds) × \(lookupsPerRound) lookups; figures are medians over rounds")

        var config = RouteTableConfiguration(baseDomains: ["example.com"])
        config.tcpPorts = 1...65535
        let table = try RouteTable(configuration: config)

        // Load. Labels are kept (not the keys), to build queries later.
        var rng = SplitMix(state: 42)
        var exactLabels: [String] = []
        exactLabels.reserveCapacity(exactCount)
        var wildcardLabels: [String] = []
        wildcardLabels.reserveCapacity(wildcardCount)
        for _ in 0..<exactCount { exactLabels.append(TableBenchmark.label(&rng)) }
        for _ in 0..<wildcardCount { wildcardLabels.append(TableBenchmark.label(&rng)) }
        let keys: [RouteKey] = exactLabels.map { .host($0 + ".example.com") }
            + wildcardLabels.map { .wildcard($0 + ".example.com") }
            + (0..<tcpCount).map { .tcp(UInt16(10_000 + $0)) }
        let order = keys.indices.shuffled(using: &rng)

        Memory.trim()
        let rssBefore = Memory.residentBytes()
        let loadStart = MonotonicTime.now()
        var failures = 0
        for i in order {
            do {
                _ = try table.add(AddRequest(.key(keys[i])), as: admin)
            } catch {
                failures += 1
            }
        }
        let loadSeconds = MonotonicTime.seconds(since: loadStart)
        Memory.trim()
        let rssAfter = Memory.residentBytes()
        let stats = table.stats()
        precondition(stats.total == routes - failures, "table has \(stats.total) routes")
        let loaded = stats.total
        let bytesPerRoute = Double(rssAfter - rssBefore) / Double(loaded)
        let addsPerSecond = Double(loaded) / loadSeconds
        print("loaded \(loaded) routes (\(failures) collisions skipped) in \(fmt(loadSeconds)) s: \(fmt(addsPerSecond, 0)) adds/s")
        print("resident memory: \(fmt(bytesPerRoute, 1)) bytes per route (RSS \(rssBefore >> 20) → \(rssAfter >> 20) MiB, incl. \(config.historyLimit)-event history)")

        // Queries: fresh String instances, in random order.
        var qrng = SplitMix(state: 7)
        let hitQueries = (0..<lookupsPerRound).map { _ in
            TableBenchmark.fresh(exactLabels[Int(qrng.next() % UInt64(exactLabels.count))] + ".example.com")
        }
        let missQueries = (0..<lookupsPerRound).map { _ in TableBenchmark.label(&qrng) + ".example.com" }
        let wildcardQueries = (0..<lookupsPerRound).map { _ in
            TableBenchmark.label(&qrng, length: 6) + "."
                + wildcardLabels[Int(qrng.next() % UInt64(wildcardLabels.count))] + ".example.com"
        }

        if let profile {
            let queries = profile == "miss" ? missQueries : profile == "wildcard" ? wildcardQueries : hitQueries
            print("profiling \(profile) lookups: \(fmt(measure(queries) { q in table.lookup(host: q)?.route.createRevision ?? 0 }, 1)) ns")
            return
        }

        // Baseline: a plain dictionary of the same keys.
        var baseline: [String: Int] = [:]
        baseline.reserveCapacity(loaded)
        for (i, key) in keys.enumerated() { baseline[key.description] = i }

        // Rounds alternate between the baseline and the table, so that drift on a shared
        // machine lands on both; ratios are medians of per-round ratios.
        let lookup: (String) -> UInt64 = { q in table.lookup(host: q)?.route.createRevision ?? 0 }
        let base: (String) -> UInt64 = { q in UInt64(truncatingIfNeeded: baseline[q] ?? 0) }
        let (baselineNs, hitNs, hitRatio) = compare(hitQueries, baseline: base, candidate: lookup)
        let (baselineMissNs, missNs, missRatio) = compare(missQueries, baseline: base, candidate: lookup)
        let (_, wildcardNs, wildcardRatio) = compare(wildcardQueries, baseline: base, candidate: lookup, baselineQueries: hitQueries)

        // Two threads, each on its own half of the queries.
        let twoThreadRate = twoThreads(hitQueries) { q in table.lookup(host: q)?.route.createRevision ?? 0 }
        let oneThreadRate = 1e9 / hitNs

        // Removes: a tenth of the table.
        let removeKeys = Array(order.prefix(routes / 10)).map { keys[$0] }
        let removeStart = MonotonicTime.now()
        for key in removeKeys { _ = try? table.delete(key, as: admin) }
        let removesPerSecond = Double(removeKeys.count) / MonotonicTime.seconds(since: removeStart)

        // Adds by a user (not an admin) under a name in a namespace with quotas, against the
        // same adds with no namespaces: fresh tables, alternated, medians of three rounds.
        let (plainAdds, namespaceAdds) = try namespaceAddRates(count: min(100_000, routes))
        let namespaceRatio = median(namespaceAdds) / median(plainAdds)

        print("")
        print("                                  ns/op (p50)   ratio to [String: Int]")
        print("baseline [String: Int] hit      \(pad(fmt(baselineNs, 1), 12))   1.00")
        print("baseline [String: Int] miss     \(pad(fmt(baselineMissNs, 1), 12))   \(fmt(baselineMissNs / baselineNs))")
        print("exact hit   lookup(host:)       \(pad(fmt(hitNs, 1), 12))   \(fmt(hitRatio))   (target ≤ 1.20)")
        print("miss        lookup(host:)       \(pad(fmt(missNs, 1), 12))   \(fmt(missRatio))   (vs. baseline miss)")
        print("wildcard hit lookup(host:)      \(pad(fmt(wildcardNs, 1), 12))   \(fmt(wildcardRatio))   (target ≤ 3.00)")
        print("")
        print("lookups/s, 1 thread:  \(fmt(oneThreadRate, 0))")
        print("lookups/s, 2 threads: \(fmt(twoThreadRate, 0))  (\(fmt(twoThreadRate / oneThreadRate))× one thread)")
        print("adds/s:    \(fmt(addsPerSecond, 0))")
        print("removes/s: \(fmt(removesPerSecond, 0))")
        print("user adds/s, no namespaces vs in a namespace with quotas: \(fmt(median(plainAdds), 0)) vs \(fmt(median(namespaceAdds), 0)): \(fmt(namespaceRatio))  (goal ≥ 0.91: at most 10% more a add)")
        print("bytes/route: \(fmt(bytesPerRoute, 1))  (target ≤ 250)")
        let json = """
            {"bench":"table","routes":\(loaded),"lookup_ns_p50":\(fmt(hitNs, 1)),"baseline_ns_p50":\(fmt(baselineNs, 1)),\
            "lookup_ratio":\(fmt(hitRatio, 3)),"miss_ns_p50":\(fmt(missNs, 1)),"wildcard_ns_p50":\(fmt(wildcardNs, 1)),\
            "wildcard_ratio":\(fmt(wildcardRatio, 3)),"two_thread_lookups_per_s":\(fmt(twoThreadRate, 0)),\
            "adds_per_s":\(fmt(addsPerSecond, 0)),"removes_per_s":\(fmt(removesPerSecond, 0)),"bytes_per_route":\(fmt(bytesPerRoute, 1)),\
            "user_adds_per_s":\(fmt(median(plainAdds), 0)),"namespace_adds_per_s":\(fmt(median(namespaceAdds), 0)),\
            "namespace_add_ratio":\(fmt(namespaceRatio, 3))}
            """
        print(json)
    }

    /// Alternates rounds of `baseline` (on `baselineQueries`, default the same queries) and
    /// `candidate`; returns the median ns per call of each and the median per-round ratio.
    func compare(_ queries: [String], baseline: (String) -> UInt64, candidate: (String) -> UInt64,
                 baselineQueries: [String]? = nil) -> (Double, Double, Double) {
        let baseQueries = baselineQueries ?? queries
        var sink: UInt64 = 0
        func round(_ qs: [String], _ body: (String) -> UInt64) -> Double {
            let start = MonotonicTime.now()
            for q in qs { sink &+= body(q) }
            return MonotonicTime.seconds(since: start) * 1e9 / Double(qs.count)
        }
        _ = round(Array(baseQueries.prefix(10_000)), baseline)
        _ = round(Array(queries.prefix(10_000)), candidate)
        var b: [Double] = []
        var c: [Double] = []
        var ratios: [Double] = []
        for _ in 0..<rounds {
            let x = round(baseQueries, baseline)
            let y = round(queries, candidate)
            b.append(x)
            c.append(y)
            ratios.append(y / x)
        }
        blackHole(sink)
        return (median(b), median(c), median(ratios))
    }

    /// Median over rounds of the mean time per call, in nanoseconds.
    func measure(_ queries: [String], _ body: (String) -> UInt64) -> Double {
        var sink: UInt64 = 0
        for q in queries.prefix(10_000) { sink &+= body(q) } // warm up
        var samples: [Double] = []
        for _ in 0..<rounds {
            let start = MonotonicTime.now()
            for q in queries { sink &+= body(q) }
            samples.append(MonotonicTime.seconds(since: start) * 1e9 / Double(queries.count))
        }
        blackHole(sink)
        return median(samples)
    }

    func measure(_ queries: [String], _ body: (String) -> Int) -> Double {
        measure(queries) { UInt64(truncatingIfNeeded: body($0)) }
    }

    /// Lookups per second with two threads, median over rounds.
    func twoThreads(_ queries: [String], _ body: @Sendable (String) -> UInt64) -> Double {
        let halves = [Array(queries.prefix(queries.count / 2)), Array(queries.suffix(queries.count / 2))]
        var samples: [Double] = []
        for _ in 0..<rounds {
            let start = MonotonicTime.now()
            DispatchQueue.concurrentPerform(iterations: 2) { i in
                var sink: UInt64 = 0
                for q in halves[i] { sink &+= body(q) }
                blackHole(sink)
            }
            samples.append(Double(halves[0].count + halves[1].count) / MonotonicTime.seconds(since: start))
        }
        return median(samples)
    }

    /// Adds per second by the user `alice` of `count` names under team.example.com on fresh
    /// tables, three rounds each: with no namespaces, and with team.example.com a team
    /// namespace she belongs to (a group among its members, quotas of routes, TCP ports and TTL).
    func namespaceAddRates(count: Int) throws -> (plain: [Double], namespaced: [Double]) {
        let alice = Principal.user("alice")
        var rng = SplitMix(state: 11)
        let labels = (0..<count).map { _ in TableBenchmark.label(&rng) }
        let requests = try labels.map { label in
            AddRequest(.key(.host(label + ".team.example.com")), tunnel: try TunnelID("t-alice"), ttl: .seconds(3600))
        }
        let policy = try NamespacePolicy([
            Namespace(name: "team", kind: .team, domains: ["team.example.com"], users: ["alice"], groups: ["staff"],
                      quota: Namespace.Quota(routes: 10_000_000, tcpPorts: 100, longestTTL: .seconds(86_400)),
                      memberQuota: Namespace.Quota(routes: 10_000_000)),
            Namespace(name: "home", kind: .user, domains: ["users.example.com"], groups: ["staff"]),
        ], groupsOf: { _ in ["staff"] })
        var plain: [Double] = []
        var namespaced: [Double] = []
        for _ in 0..<3 {
            for withNamespaces in [false, true] {
                let table = try RouteTable(configuration: RouteTableConfiguration(baseDomains: ["example.com"]))
                if withNamespaces { table.setNamespaces(policy) }
                let start = MonotonicTime.now()
                for request in requests { _ = try? table.add(request, as: alice) }
                let rate = Double(count) / MonotonicTime.seconds(since: start)
                precondition(table.stats().total == count, "every add went in")
                if withNamespaces { namespaced.append(rate) } else { plain.append(rate) }
            }
        }
        return (plain, namespaced)
    }
}