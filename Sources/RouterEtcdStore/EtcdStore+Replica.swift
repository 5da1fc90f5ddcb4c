#if canImport(Glibc)
import Glibc
#endif
import DomainRouter
import NIOPosix
import RouterEngine
import RouterEtcd

/// The replica: loading the table from etcd, and following its log.
extension EtcdStore {
    /// Loads the whole table at one etcd revision E: the store's id (made now if the table was
    /// never written), the head and the checkpoint, every routes key, and the log from the
    /// checkpoint (and as far back as the history holds) to the head; the log's events after
    /// the checkpoint bring the routes up to the head. The watch goes on from E + 1. Every
    /// watch ends with `reason`. One load at a time: a caller that asks while one is under way
    /// (the writer's recovery, while the watch loads) shares it.
    func load(reason: RouteError) async throws {
        try await loading.run {
            while true {
                do {
                    try await loadOnce(reason: reason)
                    return
                } catch let error as EtcdError where error.code == .compacted {
                    logger.warning("etcd compacted the revision being loaded; loading again", metadata: ["store": "\(location)"])
                }
            }
        }
    }

    func loadOnce(reason: RouteError) async throws {
        // Should the store have been deleted, the new sequence starts after the serial the old
        // one reached (start + revision), so that DNS serials never go back.
        let (previous, revision) = state.withLock { ($0.shared.storeID, table.revision) }
        let reads: [EtcdJSON.Operation] = [.range(EtcdJSON.range(keys.id)), .range(EtcdJSON.range(keys.head)), .range(EtcdJSON.range(keys.applied))]
        let opened = try await client.txn(EtcdJSON.txn(compare: [EtcdJSON.versionIs(keys.id, 0)],
                                                       success: [.put(EtcdJSON.put(keys.id, Self.freshID(after: previous, revision: revision)))] + reads,
                                                       failure: reads), failover: true)
        let at = opened.revision
        guard opened.ranges.count == 3, let id = opened.ranges[0].kvs.first?.value else {
            throw StoreFormatError("\(keys.id) in \(location) was not written")
        }
        let (head, headToken) = try Self.head(opened.ranges[1].kvs.first?.value)
        let applied = try opened.ranges[2].kvs.first.map { kv throws(StoreFormatError) -> UInt64 in
            guard let n = UInt64(kv.value) else { throw StoreFormatError("\(keys.applied) in \(location) is not a revision") }
            return n
        } ?? 0
        guard applied <= head else { throw StoreFormatError("\(keys.applied) in \(location) is past its head") }
        // The routes as of the checkpoint, a page at a time, at revision `at`.
        var routes: [String: Route] = [:]
        var from = keys.routes
        while true {
            let page = try await client.range(EtcdJSON.range(from, end: keys.end(keys.routes), revision: at, limit: 2000), timeout: Self.bulkTimeout)
            for kv in page.kvs {
                let route = try StoredRoute.decode(kv.value)
                routes[route.key] = route
            }
            guard page.more, let last = page.kvs.last else { break }
            from = last.key + "\0"
        }
        // The log from the older of the checkpoint and the history's reach, to the head.
        let reach = head > UInt64(logLength) ? head - UInt64(logLength) + 1 : 1
        let start = min(applied + 1, reach)
        let entries = try await logEntries(from: start, to: head, at: at)
        var history: [RouteEvent] = []
        var expected = applied + 1
        for entry in entries {
            for event in entry.events where event.revision <= head {
                if event.revision > applied {
                    guard event.revision == expected else {
                        throw StoreFormatError("the log in \(location) lacks revision \(expected) after the checkpoint \(applied)")
                    }
                    expected += 1
                    switch event.kind {
                    case .add, .update: routes[event.key] = event.route
                    default: routes[event.key] = nil
                    }
                }
                if event.revision >= reach { history.append(event) }
            }
        }
        guard expected == head + 1 else {
            throw StoreFormatError("the log in \(location) ends at \(expected - 1), before its head \(head)")
        }
        // Storing a million routes holds a thread for seconds: not one of the event loops,
        // whose connections and tasks would stall meanwhile.
        let (loaded, replayed, replica) = (routes, history, table)
        try await NIOThreadPool.singleton.runIfActive {
            replica.load(Array(loaded.values), revision: head, history: replayed, reason: reason)
        }
        state.withLock { s in
            s.shared.storeID = id
            s.shared.health.storeRevision = head
            s.tokens = headToken.map { [head: $0] } ?? [:]
            s.watchFrom = at + 1
            s.lagging = 0
        }
    }

    /// The head key's revision and token (`0`, nil when the table was never written).
    static func head(_ value: String?) throws(StoreFormatError) -> (UInt64, String?) {
        guard let value else { return (0, nil) }
        let fields = value.split(separator: " ")
        guard fields.count == 2, let revision = UInt64(fields[0]) else {
            throw StoreFormatError("the head key is not REVISION TOKEN: \(value.prefix(80))")
        }
        return (revision, String(fields[1]))
    }

    /// The log entries holding revisions `from` … `to` (and, for `to` nil, all after), read at
    /// etcd revision `at` (0: now), a page at a time, with their part keys.
    func logEntries(from: UInt64, to: UInt64?, at: Int64) async throws -> [EtcdCommitEntry] {
        var entries: [EtcdCommitEntry] = []
        var key = keys.log(from)
        let end = to.map { keys.log($0 + 1) } ?? keys.end(keys.log)
        while true {
            let page = try await client.range(EtcdJSON.range(key, end: end, revision: at, limit: 256), timeout: Self.bulkTimeout)
            for kv in page.kvs { entries.append(try await entry(kv, at: at)) }
            guard page.more, let last = page.kvs.last else { break }
            key = last.key + "\0"
        }
        // The entry holding `from` is keyed by its last revision, at or after `from`.
        return entries
    }

    /// A log key's entry, its events read from its part keys when it has them.
    func entry(_ kv: EtcdKV, at: Int64) async throws -> EtcdCommitEntry {
        let text = Substring(kv.value)
        let header = try EtcdCommitEntry.header(text)
        var events: [RouteEvent]
        if header.parts > 0 {
            let last = kv.key.suffix(20)
            let prefix = keys.parts + "\(last)/\(header.token)/"
            let range = try await client.range(EtcdJSON.range(prefix, end: keys.end(prefix), revision: at), timeout: Self.bulkTimeout)
            let ordered = range.kvs.sorted { (Int($0.key.dropFirst(prefix.count)) ?? 0) < (Int($1.key.dropFirst(prefix.count)) ?? 0) }
            guard ordered.count == header.parts else {
                throw StoreFormatError("log entry \(kv.key) names \(header.parts) parts and \(ordered.count) are in \(location)")
            }
            events = []
            var base = header.base
            for part in ordered {
                let more = try EtcdCommitEntry.events(Substring(part.value), after: base)
                base += UInt64(more.count)
                events += more
            }
        } else {
            let body = text.drop(while: { $0 != "\n" }).dropFirst()
            events = try EtcdCommitEntry.events(body, after: header.base)
        }
        return EtcdCommitEntry(token: header.token, base: header.base, events: events, parts: header.parts)
    }

    /// Applies the log from the table's revision on; a replica whose log was trimmed past it is
    /// loaded anew. Returns the etcd revision read at.
    @discardableResult
    func catchUp() async throws -> Int64 {
        let from = table.revision &+ 1
        let page = try await client.range(EtcdJSON.range(keys.log(from), end: keys.end(keys.log), limit: 1), timeout: Self.bulkTimeout)
        let at = page.revision
        guard let first = page.kvs.first else {
            try await checkHead(at: at)
            return at
        }
        let header = try EtcdCommitEntry.header(Substring(first.value))
        guard header.base < from else {
            try await load(reason: .reset("this daemon fell behind the route store's log (\(location)); list again, then watch"))
            return state.withLock { $0.watchFrom } - 1
        }
        for entry in try await logEntries(from: from, to: nil, at: at) {
            apply(entry)
        }
        return at
    }

    /// Applies a committed entry to the table (what it already has is skipped), noting its
    /// token as the head's.
    func apply(_ entry: EtcdCommitEntry) {
        guard entry.last > table.revision else { return }
        table.replicate(entry.events)
        state.withLock { s in
            s.tokens[entry.last] = entry.token
            if s.tokens.count > 256, let oldest = s.tokens.keys.min() { s.tokens[oldest] = nil }
        }
        markContact(revision: entry.last)
    }

    /// The store's id and head read at `at`: a store deleted or replaced, or one whose head
    /// went back (restored from an older snapshot), is loaded anew.
    func checkHead(at: Int64 = 0) async throws {
        let known = state.withLock { $0.shared.storeID }
        let before = table.revision
        let read = try await client.txn(EtcdJSON.txn(compare: [], success: [.range(EtcdJSON.range(keys.id)), .range(EtcdJSON.range(keys.head))]), failover: true)
        let id = read.ranges.first?.kvs.first?.value
        let (head, _) = try Self.head(read.ranges.count > 1 ? read.ranges[1].kvs.first?.value : nil)
        markContact(revision: head)
        if id != known || head < before {
            logger.error("the route store lost its data or was replaced; loading it again", metadata: [
                "store": "\(location)", "store_id": "\(known)", "now": "\(id ?? "none")",
                "revision": "\(before)", "store_revision": "\(head)",
            ])
            try await load(reason: .reset("the route store (\(location)) was deleted, replaced or lost data; its history is gone: list again, then watch"))
        }
    }

    /// Follows the log with a watch from the etcd revision after the load, until cancelled.
    /// A watch cut by the member is started again on the next; one etcd compacted past goes on
    /// from a range read of the log (or a load, when the log was trimmed past the replica).
    func follow() async {
        while !Task.isCancelled {
            let from = state.withLock { s in
                s.restartWatch = false
                return s.watchFrom
            }
            do {
                // The watch, and beside it a check that ends it when the lease loop finds it
                // stuck (a paused member sends nothing, and keeps the connection open).
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await self.watchLog(from: from) }
                    group.addTask {
                        while !Task.isCancelled, !self.state.withLock({ $0.restartWatch }) {
                            try await Task.sleep(for: .milliseconds(200))
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            } catch let error as EtcdError {
                if Task.isCancelled { return }
                switch error.code {
                case .compacted:
                    // Changes between the watch's revision and etcd's compaction are still in
                    // the log (unless trimmed: then catchUp loads).
                    do {
                        let at = try await catchUp()
                        state.withLock { $0.watchFrom = max($0.watchFrom, at + 1) }
                    } catch {
                        markUnavailable(error)
                        try? await Task.sleep(for: .milliseconds(250))
                    }
                default:
                    markUnavailable(error)
                    try? await Task.sleep(for: .milliseconds(250))
                }
            } catch {
                if Task.isCancelled { return }
                markUnavailable(error)
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
    }

    /// One watch of the log from etcd revision `from`, applying each committed entry.
    func watchLog(from: Int64) async throws(EtcdError) {
        try await client.watch(keys.log, end: keys.end(keys.log), from: from) { result throws(EtcdError) -> Bool in
            if result["canceled"]?.boolValue == true {
                let compacted = EtcdJSON.int(result["compact_revision"])
                throw EtcdError(compacted > 0 ? .compacted : .refused,
                                "the watch was cancelled\(compacted > 0 ? " (compacted to \(compacted))" : ""): \(result["cancel_reason"]?.stringValue ?? "")")
            }
            let revision = EtcdJSON.int(result["header"]?["revision"])
            if case .array(let events)? = result["events"] {
                for event in events where event["type"]?.stringValue != "DELETE" {
                    guard let kv = event["kv"] else { continue }
                    do {
                        let pair = try EtcdKV(kv)
                        // Keyed by its last revision: a change the table has (this daemon's
                        // own, applied by its writer) is not decoded again.
                        if let last = UInt64(pair.key.suffix(20)), last <= self.table.revision {
                            self.markContact(revision: last)
                            continue
                        }
                        let entry = try await self.entry(pair, at: 0)
                        if entry.base > self.table.revision {
                            // A gap (a change this watch has not shown): read the log.
                            try await self.catchUp()
                        }
                        self.apply(entry)
                    } catch let error as EtcdError {
                        throw error
                    } catch {
                        throw EtcdError(.malformed, "\(error)")
                    }
                }
            } else {
                self.markContact()
            }
            if revision > 0 { self.state.withLock { $0.watchFrom = max($0.watchFrom, revision + 1) } }
            return !Task.isCancelled
        }
    }

    /// How long one page of a load or a catch-up may take.
    static let bulkTimeout: Duration = .seconds(10)

    /// A new store id: when the store began, then random (`ProcessFacts.sequenceID`) — or,
    /// replacing a sequence that reached `revision`, no earlier than that sequence's start plus
    /// its revision, so that DNS serials derived from them go on forward.
    static func freshID(after previous: String = "", revision: UInt64 = 0) -> String {
        let now = Int64(time(nil))
        guard let start = ProcessFacts.sequenceStart(of: previous) else { return ProcessFacts.sequenceID(now: now) }
        return ProcessFacts.sequenceID(now: max(now, Int64(start) + Int64(truncatingIfNeeded: revision) + 1))
    }
}
