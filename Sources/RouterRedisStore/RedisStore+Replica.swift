#if canImport(Glibc)
import Glibc
#endif
import DomainRouter
import NIOPosix
import RouterEngine
import RouterRedis

/// The replica: loading the table from Redis, and following its log.
extension RedisStore {
    /// Loads the whole table (`loadNow`), once at a time: a caller that asks while a load is
    /// under way (the writer's recovery, while the follower loads) waits for that load and
    /// shares its outcome, rather than building a second table of the same routes beside it.
    func load(reason: RouteError) async throws {
        try await loading.run { try await loadNow(reason: reason) }
    }

    /// Loads the whole table: the store's id and revision R (the id made now if the table was
    /// never written), every route (`HSCAN`, which may see changes after R), the log up to R
    /// as the history watches may replay, then the log after R, which brings every route
    /// changed during the scan to its latest state. Every watch ends with `reason`.
    func loadNow(reason: RouteError) async throws {
        while true {
            // Should the store have been flushed, the new sequence starts after the serial the old
            // one reached (start + revision), so that DNS serials never go back.
            let (previous, revision) = state.withLock { ($0.shared.storeID, table.revision) }
            let opened = try await client.evaluate(RedisScripts.open, keys: [keys.id, keys.revision],
                                                   arguments: [Self.freshID(after: previous, revision: revision)])
            guard let parts = opened.elements, parts.count == 2, let id = parts[0].string,
                  let base = parts[1].integer.map({ UInt64($0) }) else {
                throw StoreFormatError("\(keys.id) and \(keys.revision) in \(location) are not what routerd writes there")
            }
            let started = ContinuousClock.now
            // The log up to R, as far back as the table's history holds, a page at a time.
            var history: [RouteEvent] = []
            var from = base > UInt64(logLength) ? base - UInt64(logLength) + 1 : 1
            while base > 0, from <= base {
                let page = try await page(["XRANGE", keys.log, "\(from)-0", "\(base)-0", "COUNT", String(Self.pageEntries)], after: from - 1)
                history += page.events
                guard let last = page.events.last, page.entries == Self.pageEntries else { break }
                from = last.revision + 1
            }
            let read = ContinuousClock.now
            // The routes: scanned here, a page at a time, while a thread of NIO's blocking pool
            // decodes and stores the pages before (a million routes hold a thread for seconds:
            // not one of the event loops, whose connections — this store's among them: a lease
            // renewal waiting behind the load would time out and close it — and tasks would
            // stall meanwhile). A scan may return a field twice (Redis resizing the hash): the
            // table keeps the later one, and the log after R brings every route changed during
            // the scan up to date. The table is replaced only once every page is stored.
            let pages = ChunkQueue<[UInt8]>()
            let (replayed, replica) = (history, table)
            async let stored: Int = NIOThreadPool.singleton.runIfActive {
                var count = 0
                do {
                    try replica.load(revision: base, history: replayed, reason: reason) {
                        guard let page = try pages.next() else { return nil }
                        count += page.count
                        return try page.map { record in
                            try record.withUnsafeBytes { bytes throws(StoreFormatError) in try StoredRoute.decode(bytes: bytes) }
                        }
                    }
                } catch {
                    pages.abandon()
                    throw error
                }
                return count
            }
            var scanned = read
            do {
                var cursor = "0"
                repeat {
                    let reply = try await client.command(["HSCAN", keys.routes, cursor, "COUNT", String(Self.scanCount)], timeout: Self.bulkTimeout)
                    guard let page = reply.elements, page.count == 2, let next = page[0].string else {
                        throw StoreFormatError("HSCAN of \(keys.routes) gave no page")
                    }
                    let flat = page[1].elements ?? []
                    var records: [[UInt8]] = []
                    records.reserveCapacity(flat.count / 2)
                    for i in stride(from: 1, to: flat.count, by: 2) {
                        if case .bulkString(let record?) = flat[i] { records.append(record) }
                    }
                    cursor = pages.put(records) ? next : "0"
                } while cursor != "0"
                scanned = ContinuousClock.now
                pages.finish()
            } catch {
                pages.finish(failure: error)
                _ = try? await stored
                throw error
            }
            let count = try await stored
            logger.notice("table loaded", metadata: [
                "store": "\(location)", "records": "\(count)", "revision": "\(base)",
                "log_seconds": "\(Self.seconds(read - started))", "scan_seconds": "\(Self.seconds(scanned - read))",
                "seconds": "\(Self.seconds(ContinuousClock.now - started))",
            ])
            state.withLock { s in
                s.shared.storeID = id
                s.shared.health.storeRevision = base
            }
            // The log must reach back to R + 1, or the scan may hold changes it cannot bring
            // up to date: load again (a table changing faster than the log keeps).
            if try await catchUp(reloadIfBehind: false) { return }
            logger.warning("the store's log moved past this daemon's load; loading again", metadata: ["store": "\(location)"])
        }
    }

    /// Applies the log from the table's revision to the store's; true when caught up, false
    /// when the log no longer reaches back that far (then, with `reloadIfBehind`, loads).
    @discardableResult
    func catchUp(reloadIfBehind: Bool = true) async throws -> Bool {
        while true {
            let from = table.revision &+ 1
            let page = try await page(["XRANGE", keys.log, "\(from)-0", "+", "COUNT", String(Self.pageEntries)], after: from - 1)
            let batch = page.events
            guard let first = batch.first else {
                return try await checkStore(reloadIfBehind: reloadIfBehind)
            }
            guard first.revision == from else {
                guard reloadIfBehind else { return false }
                try await load(reason: .reset("this daemon fell behind the route store's log (\(location)); list again, then watch"))
                return true
            }
            table.replicate(batch)
            markContact(revision: batch.last!.revision)
            if page.entries < Self.pageEntries { return true }
        }
    }

    /// Compares the store's id and revision with the table's: a store flushed or replaced, or
    /// one that went back in time (Redis restarted without its data), is loaded anew.
    ///
    /// The table's revision is read before the store's: the follower and the writer apply
    /// changes while the `GET`s are out, so a revision read after them may be ahead of the
    /// store's answer without the store having lost anything.
    @discardableResult
    func checkStore(reloadIfBehind: Bool) async throws -> Bool {
        let (known, before) = (state.withLock { $0.shared.storeID }, table.revision)
        let replies = try await client.pipeline([["GET", keys.id], ["GET", keys.revision]])
        let id = replies[0].string
        let revision = UInt64(replies[1].integer ?? 0)
        markContact(revision: revision)
        if id != known || revision < before {
            guard reloadIfBehind else { return false }
            logger.error("the route store lost its data or was replaced; loading it again", metadata: [
                "store": "\(location)", "store_id": "\(known)", "now": "\(id ?? "none")",
                "revision": "\(before)", "store_revision": "\(revision)",
            ])
            try await load(reason: .reset("the route store (\(location)) was flushed, replaced or lost data; its history is gone: list again, then watch"))
            return true
        }
        let now = table.revision
        if revision > now {
            // Changes committed since the log was read (a race, not a loss): read them now.
            // A log that holds nothing after `now` while the store's revision is ahead was not
            // written by routerd (its newest entry is never trimmed): load.
            let next = try await page(["XRANGE", keys.log, "\(now &+ 1)-0", "+", "COUNT", "1"], after: now)
            if next.events.isEmpty {
                guard reloadIfBehind else { return false }
                try await load(reason: .reset("the route store's log (\(location)) ends before its revision; list again, then watch"))
                return true
            }
            return try await catchUp(reloadIfBehind: reloadIfBehind)
        }
        return true
    }

    /// Follows the log with blocking reads until cancelled; each wait that ends empty checks
    /// the store (a flush leaves no entry to read).
    ///
    /// While this daemon has commits under way the follower does not read: what the log gains
    /// meanwhile is those commits (which the writer applies from its own drafts), and a change
    /// of another daemon's among them makes the next of them stale, upon which the writer
    /// catches up from the log itself (`recover()`). Reading them back would only cost Redis,
    /// the socket and this daemon the same changes again.
    func follow() async {
        while !Task.isCancelled {
            await ownCommitsSettled()
            if Task.isCancelled { return }
            do {
                let from = table.revision
                let reply = try await follower.command(["XREAD", "COUNT", String(Self.pageEntries), "BLOCK", "1000", "STREAMS", keys.log, "\(from)-0"])
                if reply.isNull {
                    try await checkStore(reloadIfBehind: true)
                    continue
                }
                let events = try Self.events(fromStreams: reply, after: table.revision,
                                             own: state.withLock { $0.ownCommits })
                markContact(revision: events.last?.revision)
                if case .gap = table.replicate(events) { try await catchUp() }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                markUnavailable(error)
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
    }

    /// Returns once this daemon has no commit under way (at once if it has none), or once the
    /// task is cancelled.
    func ownCommitsSettled() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (waiting: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    guard !s.ownCommits.isEmpty, !Task.isCancelled else { return true }
                    s.followerWaiting = waiting
                    return false
                }
                if now { waiting.resume() }
            }
        } onCancel: {
            let waiting = state.withLock { s -> CheckedContinuation<Void, Never>? in
                defer { s.followerWaiting = nil }
                return s.followerWaiting
            }
            waiting?.resume()
        }
    }

    /// The events after revision `after` of an `XRANGE` reply, and how many entries it held.
    func page(_ command: [String], after: UInt64) async throws -> (events: [RouteEvent], entries: Int) {
        let reply = try await client.command(command, timeout: Self.bulkTimeout)
        return (try Self.events(fromEntries: reply, after: after), reply.elements?.count ?? 0)
    }

    /// How many fields one `HSCAN` of a load asks for: Redis walks about that many for each
    /// call, between which it serves its other clients.
    static let scanCount = 5000

    /// `duration` in seconds, to the millisecond, for logs.
    static func seconds(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return "\(Double(ms) / 1000)"
    }

    /// How many log entries one read takes: each holds up to `RedisLogText.entryChanges`
    /// changes, so a page is at most 65,536 changes.
    static let pageEntries = 256

    /// How long one page of a load or a catch-up may take (thousands of routes or changes).
    static let bulkTimeout: Duration = .seconds(10)

    /// The events of a log reply after revision `after` (older entries are skipped unread).
    /// An entry holds changes of one commit as `RedisLogText` (`[c, text]`), its id the revision
    /// of the last; entries as earlier routerd wrote them are read too: `[kind, route, …]` pairs
    /// and, earlier still, one change an entry, `[k, kind, r, route]`. An entry that is one of
    /// this daemon's own commits under way (the same revisions and text) is taken from the
    /// draft rather than parsed again.
    static func events(fromEntries reply: RESPValue, after: UInt64 = 0,
                       own commits: [OwnCommit] = []) throws(StoreFormatError) -> [RouteEvent] {
        var events: [RouteEvent] = []
        for entry in reply.elements ?? [] {
            guard let parts = entry.elements, parts.count == 2, let id = parts[0].string else {
                throw StoreFormatError("a log entry is not [id, fields]")
            }
            guard let last = id.firstIndex(of: "-").flatMap({ UInt64(id[..<$0]) }) else {
                throw StoreFormatError("a change's id \(id) is not a revision")
            }
            if last <= after { continue }
            let flat = parts[1].elements ?? []
            if flat.count == 2, flat[0] == .bulkString(Array(RedisLogText.field.utf8)) {
                guard case .bulkString(let text?) = flat[1] else { throw StoreFormatError("log entry \(id) has no text") }
                if let own = ownEntry(last: last, text: text, in: commits) {
                    events += own.filter { $0.revision > after }
                } else {
                    try text.withUnsafeBytes { raw in
                        Result { () throws(StoreFormatError) in
                            try RedisLogText.events(in: raw, last: last, after: after, id: id, into: &events)
                        }
                    }.get()
                }
                continue
            }
            let single = flat.count == 4 && flat[0] == .bulkString([UInt8(ascii: "k")]) && flat[2] == .bulkString([UInt8(ascii: "r")])
            let pairs = single ? [(flat[1], flat[3])] : stride(from: 0, to: flat.count - 1, by: 2).map { (flat[$0], flat[$0 + 1]) }
            guard !pairs.isEmpty, flat.count % 2 == 0, UInt64(pairs.count) <= last else {
                throw StoreFormatError("log entry \(id) is not pairs of a kind and a route")
            }
            var revision = last - UInt64(pairs.count)
            for (kindValue, recordValue) in pairs {
                revision += 1
                if revision <= after { continue }
                guard case .bulkString(let kindBytes?) = kindValue, case .bulkString(let record?) = recordValue,
                      let kind = kindBytes.withUnsafeBufferPointer(RedisLogText.kind) else {
                    throw StoreFormatError("change \(revision) in log entry \(id) has no kind or route")
                }
                let route = try record.withUnsafeBytes { raw in Result { () throws(StoreFormatError) in try StoredRoute.decode(bytes: raw) } }.get()
                events.append(RouteEvent(kind: kind, revision: revision, key: route.key, route: route))
            }
        }
        return events
    }

    /// The events of the entry ending at revision `last` with `text`, when it is an entry of one
    /// of `commits` (this daemon's, under way) as sent.
    static func ownEntry(last: UInt64, text: [UInt8], in commits: [OwnCommit]) -> ArraySlice<RouteEvent>? {
        guard let own = commits.first(where: { last > $0.base && last <= $0.base + UInt64($0.events.count) }) else { return nil }
        let end = Int(last - own.base)
        let start = (end - 1) / RedisLogText.entryChanges * RedisLogText.entryChanges
        let n = start / RedisLogText.entryChanges
        guard n < own.entries.count, start + own.entries[n].records.count == end, own.entries[n].bytes == text else { return nil }
        return own.events[start..<end]
    }

    /// The events of an `XREAD` reply of one stream: `[[name, entries]]`.
    static func events(fromStreams reply: RESPValue, after: UInt64, own: [OwnCommit]) throws(StoreFormatError) -> [RouteEvent] {
        guard let streams = reply.elements, let first = streams.first?.elements, first.count == 2 else {
            throw StoreFormatError("an XREAD reply is not [[stream, entries]]")
        }
        return try events(fromEntries: first[1], after: after, own: own)
    }

    /// A new store id: when the store began, then random (`ProcessFacts.sequenceID`) — or,
    /// replacing a sequence that reached `revision` (a flushed store), no earlier than that
    /// sequence's start plus its revision: what is derived from the start and the revision
    /// (DNS serials) then goes on forward.
    static func freshID(after previous: String = "", revision: UInt64 = 0) -> String {
        let now = Int64(time(nil))
        guard let start = ProcessFacts.sequenceStart(of: previous) else { return ProcessFacts.sequenceID(now: now) }
        return ProcessFacts.sequenceID(now: max(now, Int64(start) + Int64(truncatingIfNeeded: revision) + 1))
    }
}
