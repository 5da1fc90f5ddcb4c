import DequeModule
import DNSWire
import DomainRouter
import Logging
import ServiceLifecycle
import Synchronization

/// Each zone's content as a secondary should hold it (`DNSZoneContent`), kept as the table
/// changes, with a journal of what each change added and removed: what AXFR hands out and IXFR
/// answers from (RFC 1995), and what tells NOTIFY that a zone changed. A `Service`: follows the
/// table's change feed until shutdown.
package final class DNSZoneFollower: Service, Sendable {
    /// One version's step: the owners (with addresses) it added and removed.
    package struct Change: Sendable, Hashable {
        package var from: UInt32
        package var to: UInt32
        package var added: [String]
        package var removed: [String]
    }

    struct Zone {
        let apex: String
        var owners: Set<String> = []
        var serial: UInt32 = 0
        var journal: Deque<Change> = []
        var journalNames = 0
    }

    /// The most names the journals keep, in all: an IXFR from further back gets the whole zone.
    static let journalLimit = 200_000

    let table: RouteTable
    package let zoneApexes: [String]
    let instance: @Sendable () -> String
    let logger: Logger
    private let zones: Mutex<[Zone]>
    /// Called after each change with the zones (apexes) whose serial moved: NOTIFY's and
    /// UPDATE's cue.
    private let observers = Mutex<[@Sendable ([String]) -> Void]>([])
    /// Added to every serial: set once at start when a secondary already holds a later serial
    /// than this daemon's sequence would give (`raiseSerial(above:)`).
    private let lift = Atomic<UInt32>(0)

    package init(table: RouteTable, zones: DNSZones, instance: @escaping @Sendable () -> String, logger: Logger) {
        self.table = table
        self.zoneApexes = zones.zones.map { $0.hostName ?? $0.description.lowercased() }
        self.instance = instance
        self.logger = logger
        self.zones = Mutex(zoneApexes.map { Zone(apex: $0) })
    }

    /// Adds what is called when zones change (NOTIFY, UPDATE).
    package func onChange(_ body: @escaping @Sendable ([String]) -> Void) {
        observers.withLock { $0.append(body) }
    }

    func serialNow() -> UInt32 {
        DNSSerial.serial(sequence: instance(), revision: table.revision) &+ lift.load(ordering: .relaxed)
    }

    /// Makes every serial from now on follow `other` in RFC 1982 order, when it does not
    /// already: a secondary holding a zone from an earlier in-memory routerd (whose revisions
    /// ran further than the seconds between the two starts) must still see an increase. The
    /// zones are stamped with the new serial at once and their journals start again (an IXFR
    /// from before gets the whole zone), and observers hear of it (NOTIFY).
    package func raiseSerial(above other: UInt32) {
        let now = serialNow()
        guard !DNSSerial.isAfter(now, other) else { return }
        lift.wrappingAdd(other &- now &+ 1, ordering: .relaxed)
        let serial = serialNow()
        zones.withLock { zones in
            for index in zones.indices {
                zones[index].serial = serial
                zones[index].journal = []
                zones[index].journalNames = 0
            }
        }
        logger.notice("DNS: a secondary holds serial \(other), later than this daemon's \(now); serials go on from \(serial)")
        for observe in observers.withLock({ $0 }) { observe(zoneApexes) }
    }

    /// The zones served below `apex`: their names are theirs, not its.
    func deeperZones(than apex: String) -> [String] {
        zoneApexes.filter { $0.count > apex.count && DNSZoneContent.isAtOrBelow($0, apex) }
    }

    /// Builds every zone from the table as it is.
    package func rebuild() {
        let serial = serialNow()
        var built: [Zone] = []
        for apex in zoneApexes {
            let content = DNSZoneContent(table: table, apex: apex)
            var zone = Zone(apex: apex)
            zone.owners = content.allOwners(excluding: deeperZones(than: apex))
            zone.serial = serial
            built.append(zone)
        }
        zones.withLock { $0 = built }
    }

    /// Applies changes to `keys` (route keys as the events name them): recomputes the owners
    /// they can touch, and journals the difference under the new serial.
    package func apply(keys: [String]) {
        let serial = serialNow()
        var moved: [String] = []
        zones.withLock { zones in
            for index in zones.indices {
                let apex = zones[index].apex
                let content = DNSZoneContent(table: table, apex: apex)
                let deeper = deeperZones(than: apex)
                var affected: Set<String> = []
                for key in keys {
                    let wildcard = key.hasPrefix("*.")
                    let name = wildcard ? String(key.dropFirst(2)) : key
                    guard !key.hasPrefix("tcp:"), !key.hasPrefix("uuid:"), DNSZoneContent.isAtOrBelow(name, apex),
                          !deeper.contains(where: { DNSZoneContent.isAtOrBelow(name, $0) }) else { continue }
                    affected.formUnion(content.lineage(of: name))
                    // A wildcard reaches every existing name below its parent.
                    if wildcard { affected.formUnion(content.existingNames(below: name, excluding: deeper)) }
                }
                var added: [String] = []
                var removed: [String] = []
                for name in affected {
                    let now = Set(content.owners(at: name))
                    for owner in [name, "*." + name] {
                        let was = zones[index].owners.contains(owner)
                        let isNow = now.contains(owner)
                        if isNow && !was { zones[index].owners.insert(owner); added.append(owner) }
                        if was && !isNow { zones[index].owners.remove(owner); removed.append(owner) }
                    }
                }
                let from = zones[index].serial
                guard from != serial else { continue }
                zones[index].serial = serial
                zones[index].journal.append(Change(from: from, to: serial, added: added.sorted(), removed: removed.sorted()))
                zones[index].journalNames += added.count + removed.count + 1
                while zones[index].journalNames > Self.journalLimit / max(1, zones.count), let first = zones[index].journal.popFirst() {
                    zones[index].journalNames -= first.added.count + first.removed.count + 1
                }
                moved.append(apex)
            }
        }
        if !moved.isEmpty {
            for observe in observers.withLock({ $0 }) { observe(moved) }
        }
    }

    /// The zone's serial now; nil for a zone not served.
    package func serial(of apex: String) -> UInt32? {
        zones.withLock { zones in zones.first { $0.apex == apex }?.serial }
    }

    /// The zone's serial and owners now (for AXFR), sorted; nil for a zone not served.
    package func snapshot(of apex: String) -> (serial: UInt32, owners: [String])? {
        zones.withLock { zones in
            zones.first { $0.apex == apex }.map { ($0.serial, $0.owners.sorted()) }
        }
    }

    /// What changed in the zone since `serial`, as one condensed step (RFC 1995 §4); nil when
    /// the journal no longer reaches back to it (the client then gets the whole zone).
    package func changes(of apex: String, since serial: UInt32) -> Change? {
        zones.withLock { zones -> Change? in
            guard let zone = zones.first(where: { $0.apex == apex }) else { return nil }
            if serial == zone.serial { return Change(from: serial, to: serial, added: [], removed: []) }
            guard let start = zone.journal.firstIndex(where: { $0.from == serial }) else { return nil }
            var added: Set<String> = []
            var removed: Set<String> = []
            for step in zone.journal[start...] {
                for owner in step.removed { if added.remove(owner) == nil { removed.insert(owner) } }
                for owner in step.added { if removed.remove(owner) == nil { added.insert(owner) } }
            }
            return Change(from: serial, to: zone.serial, added: added.sorted(), removed: removed.sorted())
        }
    }

    package func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let subscription: RouteSubscription
            do {
                subscription = try table.subscribe()
            } catch {
                logger.warning("DNS zones cannot follow the table: \(error)")
                return
            }
            rebuild()
            do {
                defer { subscription.cancel() }
                try await cancelWhenGracefulShutdown {
                    var keys: [String] = []
                    for try await event in subscription {
                        if event.kind == .sync { continue }
                        if event.kind == .reset {
                            self.rebuild()
                            continue
                        }
                        keys.append(event.key)
                        self.apply(keys: keys)
                        keys.removeAll(keepingCapacity: true)
                    }
                }
            } catch {
                // A follower that fell behind (slow_consumer) or a reset store: build again.
                logger.notice("DNS zones: following the table again (\(error))")
                continue
            }
            return
        }
    }
}
