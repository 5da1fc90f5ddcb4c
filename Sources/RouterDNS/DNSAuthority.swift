import DNSWire
import DomainRouter
import RouterEngine

/// Answers DNS queries for routerd's zones from the table, as an authoritative server: a name
/// resolves exactly while it is routed (exact before the longest wildcard, as the gateway
/// resolves it), to the gateway's addresses. Everything else follows RFC 1034 §4.3.2 with the
/// clarifications since: a name that exists only as an ancestor of routed names, or a routed
/// name asked for another type, is NODATA (RFC 8020); one that does not exist is NXDOMAIN with
/// the SOA whose minimum bounds how long caches keep it (RFC 2308); a name in none of the zones
/// is REFUSED. No I/O here: `DNSServer` reads and writes the bytes.
package final class DNSAuthority: Sendable {
    package let zones: DNSZones
    let table: RouteTable
    /// The revision sequence's id (the greeting's `instance`), read at each answer: a shared
    /// store's changes when the store is reset.
    let instance: @Sendable () -> String
    let metrics: RouterMetrics?
    /// The zones as transfers hand them out, when routerd serves transfers or sends NOTIFY.
    package let follower: DNSZoneFollower?
    /// Who may transfer the zones: addresses, and (with keys) a TSIG signature by one of them.
    let transferAllowed: [CIDR]
    let keys: [DNSName: TSIGKey]
    /// Unix seconds, for TSIG's time check.
    let clock: @Sendable () -> UInt64

    package init(zones: DNSZones, table: RouteTable, instance: @escaping @Sendable () -> String, metrics: RouterMetrics? = nil,
                 follower: DNSZoneFollower? = nil, transferAllowed: [CIDR] = [], keys: [TSIGKey] = [],
                 clock: @escaping @Sendable () -> UInt64 = { UInt64(SystemClock().now().millisecondsSinceEpoch / 1000) }) {
        self.zones = zones
        self.table = table
        self.instance = instance
        self.metrics = metrics
        self.follower = follower
        self.transferAllowed = transferAllowed
        self.keys = Dictionary(keys.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        self.clock = clock
    }

    /// What a name is in the zones, and why: what `answer` builds its records from, and what
    /// `routerctl dns` shows.
    package enum Resolution: Hashable, Sendable {
        /// Routed: by its own route (`via` the name) or a wildcard's (`via` `*.parent`).
        case routed(via: String, wildcard: Bool)
        /// A name server of the zones, lying inside one: its own addresses.
        case nameserver
        /// The zone's apex, not routed itself: SOA and NS only.
        case apex
        /// Not routed, but routes lie below it (RFC 8020: it exists, with no records).
        case emptyNonTerminal
        /// Nothing is routed at or below it.
        case nonexistent
        /// In none of the zones.
        case outside
    }

    /// Where `name` stands, and the zone that holds it.
    package func resolve(_ name: DNSName) -> (zone: DNSName?, resolution: Resolution) {
        guard let zone = zones.zone(of: name) else { return (nil, .outside) }
        let lower = name.lowercased()
        if zones.glue[lower] != nil { return (zone, .nameserver) }
        if let host = name.hostName {
            if host.hasPrefix("*.") {
                // Asked literally, `*.E` is what the zone holds there: a wildcard route's, or
                // the one that carries a wider wildcard past the existing name E.
                let parent = String(host.dropFirst(2))
                let content = DNSZoneContent(table: table, apex: zone.hostName ?? "")
                if content.exists(parent), let covering = content.coveringWildcard(of: parent) {
                    return (zone, .routed(via: "*." + covering, wildcard: true))
                }
            } else if let found = table.lookup(host: host, source: .name) {
                return (zone, .routed(via: found.via, wildcard: found.match == .wildcard))
            }
        }
        if lower == zone { return (zone, .apex) }
        if let host = name.hostName, table.hasRoutes(below: host) { return (zone, .emptyNonTerminal) }
        return (zone, .nonexistent)
    }

    /// The SOA serial now: the revision sequence's start (from its id) plus the revision, in
    /// RFC 1982 arithmetic. Every routerd sharing a store derives the same, and a new sequence
    /// (a restarted in-memory routerd, a store reset) starts from its own, later, start.
    /// With a follower, the serial of the zone it holds: the one transfers hand out, so that a
    /// secondary that asks for the SOA and then transfers sees the same.
    package func serial(of zone: DNSName? = nil) -> UInt32 {
        if let follower, let apex = zone?.hostName, let held = follower.serial(of: apex) { return held }
        return DNSSerial.serial(sequence: instance(), revision: table.revision)
    }

    /// The zone's SOA record (with `serial`, or the zone's now).
    package func soa(of zone: DNSName, serial: UInt32? = nil) -> DNSRecord {
        let mailbox = zones.hostmaster ?? ((try? zone.prepending("hostmaster")) ?? zone)
        return DNSRecord(name: zone, ttl: zones.negativeTTL, data: .soa(.init(
            primary: zones.nameservers[0], mailbox: mailbox, serial: serial ?? self.serial(of: zone), refresh: zones.refresh,
            retry: zones.retry, expire: zones.expire, minimum: zones.negativeTTL)))
    }

    /// The answer to a query: its records, or NXDOMAIN/NODATA with the SOA, or REFUSED.
    package func answer(_ query: DNSMessage) -> DNSMessage {
        var response = DNSMessage(id: query.id, questions: query.questions)
        response.isResponse = true
        response.opcode = query.opcode
        response.recursionDesired = query.recursionDesired
        response.checkingDisabled = query.checkingDisabled
        if query.edns != nil { response.edns = DNSMessage.EDNS(payloadSize: UInt16(zones.udpLimit)) }
        guard query.opcode == .query else {
            response.responseCode = .notImplemented
            return response
        }
        guard query.questions.count == 1 else {
            response.responseCode = .formatError
            return response
        }
        if let edns = query.edns, edns.version != 0 {
            // RFC 6891 §6.1.3: answer in the version spoken, 0, with BADVERS.
            response.questions = []
            response.responseCode = .badVersion
            return response
        }
        let question = query.questions[0]
        guard question.questionClass == .internet || question.questionClass == .any else {
            response.responseCode = .refused
            return response
        }
        if question.type == .axfr || question.type == .ixfr {
            // Transfers are answered by `transfer`, over TCP, to whom may have them.
            response.responseCode = .refused
            return response
        }
        let (zone, resolution) = resolve(question.name)
        guard let zone else {
            response.responseCode = .refused
            return response
        }
        response.isAuthoritative = true
        let name = question.name
        let type = question.type
        let isApex = name.lowercased() == zone
        if isApex && (type == .soa || type == .any) { response.answers.append(soa(of: zone)) }
        if isApex && (type == .ns || type == .any) {
            for ns in zones.nameservers { response.answers.append(DNSRecord(name: name, ttl: zones.ttl, data: .ns(ns))) }
            for ns in zones.nameservers {
                for data in zones.glue[ns] ?? [] { response.additional.append(DNSRecord(name: ns, ttl: zones.ttl, data: data)) }
            }
        }
        let addresses: [DNSRecordData]
        switch resolution {
        case .nameserver: addresses = zones.glue[name.lowercased()] ?? []
        case .routed: addresses = zones.addresses
        default: addresses = []
        }
        for data in addresses {
            let wanted: Bool
            switch data {
            case .a: wanted = type == .a || type == .any
            case .aaaa: wanted = type == .aaaa || type == .any
            default: wanted = false
            }
            if wanted { response.answers.append(DNSRecord(name: name, ttl: zones.ttl, data: data)) }
        }
        if response.answers.isEmpty {
            // NODATA when the name exists, NXDOMAIN when it does not; the SOA says for how long.
            if resolution == .nonexistent { response.responseCode = .nameError }
            response.authority = [soa(of: zone)]
        }
        return response
    }

    /// How a query arrived: UDP answers must fit the client's limit.
    package enum Transport: String, Sendable {
        case udp, tcp
    }

    /// The messages to send back for a query's bytes (several for a zone transfer); none for a
    /// message too short to have an id, or a response (answering one would let two servers
    /// bounce packets forever). `from`: the client's address, for who may transfer.
    package func respond(to bytes: [UInt8], over transport: Transport, from address: IPAddress? = nil) -> [[UInt8]] {
        guard let header = DNSMessage.header(of: bytes), header.flags & 0x8000 == 0 else {
            metrics?.dnsQuery(type: "-", code: "dropped", transport: transport.rawValue)
            return []
        }
        let query: DNSMessage
        do {
            query = try DNSMessage(parsing: bytes)
        } catch {
            // FORMERR, with the id and opcode it came with (RFC 1035 §4.1.1).
            var formErr = DNSMessage(id: header.id, flags: header.flags & 0x7900)
            formErr.isResponse = true
            formErr.responseCode = .formatError
            metrics?.dnsQuery(type: "-", code: DNSResponseCode.formatError.description, transport: transport.rawValue)
            return (try? formErr.bytes()).map { [$0] } ?? []
        }
        let type = query.questions.first.map { DNSAuthority.typeLabel($0.type) } ?? "-"
        // A signed query is checked, and its answer signed with the same key (RFC 8945 §5.3).
        var signer: (key: TSIGKey, mac: [UInt8])?
        do {
            // Only a message that carries a TSIG record is read again for its signature.
            if query.additional.last?.type == .tsig, let verified = try TSIG.verify(bytes, keys: keys, now: clock()) {
                signer = (verified.key, verified.mac)
            }
        } catch {
            var refusal = reply(to: query)
            refusal.responseCode = .notAuthoritative
            metrics?.dnsQuery(type: type, code: "NOTAUTH", transport: transport.rawValue)
            logDenied(query, why: "its TSIG signature does not check (\(error))", from: address)
            return (try? refusal.bytes()).map { [$0] } ?? []
        }
        var responses: [DNSMessage]
        if let question = query.questions.first, query.opcode == .query, query.questions.count == 1,
           question.type == .axfr || question.type == .ixfr {
            responses = transfer(query, over: transport, from: address, signed: signer != nil)
        } else {
            responses = [answer(query)]
        }
        metrics?.dnsQuery(type: type, code: responses[0].responseCode.description, transport: transport.rawValue)
        // 512 bytes without EDNS (RFC 1035 §4.2.1); with it, what the client reassembles, never
        // more than routerd's own limit; TCP's framing allows 65,535.
        let limit = transport == .tcp ? 65_535 : (query.edns.map { min(zones.udpLimit, max(512, Int($0.payloadSize))) } ?? 512)
        var out: [[UInt8]] = []
        var prior: [UInt8]?
        for response in responses {
            var bytes = response.bytes(fitting: signer == nil ? limit : limit - 100)
            if let (key, requestMAC) = signer {
                let chain: TSIG.Chain = prior.map { .continuation(priorMAC: $0) } ?? .response(requestMAC: requestMAC)
                let signed = TSIG.sign(bytes, key: key, time: clock(), chain: chain)
                bytes = signed.bytes
                prior = signed.mac
            }
            out.append(bytes)
        }
        return out
    }

    /// An empty response to `query`: its id, opcode, question and flags to copy.
    func reply(to query: DNSMessage) -> DNSMessage {
        var response = DNSMessage(id: query.id, questions: query.questions)
        response.isResponse = true
        response.opcode = query.opcode
        response.recursionDesired = query.recursionDesired
        if query.edns != nil { response.edns = DNSMessage.EDNS(payloadSize: UInt16(zones.udpLimit)) }
        return response
    }

    /// A zone transfer (AXFR, RFC 5936; IXFR, RFC 1995): over TCP, to an allowed address, signed
    /// when routerd has keys. The messages, the first with the question.
    func transfer(_ query: DNSMessage, over transport: Transport, from address: IPAddress?, signed: Bool) -> [DNSMessage] {
        var response = reply(to: query)
        let question = query.questions[0]
        guard let zone = zones.zone(of: question.name), zone == question.name.lowercased(), let apex = zone.hostName,
              let follower, let held = follower.snapshot(of: apex) else {
            response.responseCode = zones.zone(of: question.name) == nil ? .notAuthoritative : .refused
            return [response]
        }
        let allowed = address.map { ip in transferAllowed.contains { $0.contains(ip) } } ?? false
        guard allowed, keys.isEmpty || signed else {
            logDenied(query, why: allowed ? "it is not signed with a key of --dns-tsig-keys" : "its address is not in --dns-transfer-allow", from: address)
            response.responseCode = .refused
            return [response]
        }
        response.isAuthoritative = true
        let soa = self.soa(of: zone, serial: held.serial)
        if question.type == .ixfr, case .soa(let theirs)? = query.authority.first?.data {
            // Up to date, or over UDP: the SOA alone (RFC 1995 §2, §4).
            if theirs.serial == held.serial || transport == .udp {
                response.answers = [soa]
                return [response]
            }
            if let change = follower.changes(of: apex, since: theirs.serial), change.to == held.serial {
                follower.logger.info("DNS: IXFR of \(apex) to \(address.map { "\($0)" } ?? "?"): serial \(change.from) to \(change.to), \(change.added.count) added, \(change.removed.count) removed")
                let old = self.soa(of: zone, serial: change.from)
                var records = [soa, old]
                records += change.removed.flatMap { addressRecords(at: $0) }
                records += [soa]
                records += change.added.flatMap { addressRecords(at: $0) }
                records += [soa]
                return pack(records, first: response)
            }
        } else if transport == .udp {
            response.responseCode = .formatError
            return [response]
        }
        // AXFR, or an IXFR from further back than the journal: the whole zone.
        follower.logger.info("DNS: AXFR of \(apex) to \(address.map { "\($0)" } ?? "?"): serial \(held.serial), \(held.owners.count) names")
        var records = [soa]
        for ns in zones.nameservers { records.append(DNSRecord(name: zone, ttl: zones.ttl, data: .ns(ns))) }
        for (ns, addresses) in zones.glue.sorted(by: { $0.key.description < $1.key.description }) where ns.isAtOrBelow(zone) {
            for data in addresses { records.append(DNSRecord(name: ns, ttl: zones.ttl, data: data)) }
        }
        for owner in held.owners { records += addressRecords(at: owner) }
        records.append(soa)
        return pack(records, first: response)
    }

    /// The gateway's addresses at `owner` (a name server's own at its name).
    func addressRecords(at owner: String) -> [DNSRecord] {
        guard let name = try? DNSName(owner), zones.glue[name.lowercased()] == nil else { return [] }
        return zones.addresses.map { DNSRecord(name: name, ttl: zones.ttl, data: $0) }
    }

    /// Records in messages of about 16 KiB (RFC 5936 §2.2 lets a message hold any number).
    func pack(_ records: [DNSRecord], first: DNSMessage) -> [DNSMessage] {
        var messages: [DNSMessage] = []
        var current = first
        var size = 0
        for record in records {
            let estimate = record.name.wire.count + 10 + 24
            if size + estimate > 16_384, !current.answers.isEmpty {
                messages.append(current)
                current = first
                current.questions = []
                size = 0
            }
            current.answers.append(record)
            size += estimate
        }
        messages.append(current)
        return messages
    }

    func logDenied(_ query: DNSMessage, why: String, from address: IPAddress?) {
        follower?.logger.notice("DNS: refused \(query.questions.first.map { "\($0.type) \($0.name)" } ?? "a query") from \(address.map { "\($0)" } ?? "?"): \(why)")
    }

    /// The metrics' label for a query type: the common ones by name, the rest `other` (a
    /// client must not grow the label set).
    static func typeLabel(_ type: DNSType) -> String {
        switch type {
        case .a, .aaaa, .ns, .soa, .cname, .mx, .txt, .ptr, .any, .axfr, .ixfr: return type.description
        default: return "other"
        }
    }
}

/// SOA serials from revisions.
package enum DNSSerial {
    /// `start + revision` in RFC 1982 arithmetic, `start` being when the revision sequence
    /// began (the first 8 hex digits of its id, `ProcessFacts.sequenceID`). An id made another
    /// way (by an older routerd) gives a fixed start of its own, the same on every daemon.
    package static func serial(sequence id: String, revision: UInt64) -> UInt32 {
        let start = ProcessFacts.sequenceStart(of: id) ?? fnv1a(id)
        return start &+ UInt32(truncatingIfNeeded: revision)
    }

    /// Whether serial `a` comes after `b` in RFC 1982 arithmetic (32 bits).
    package static func isAfter(_ a: UInt32, _ b: UInt32) -> Bool {
        a != b && (a &- b) < 0x8000_0000
    }

    static func fnv1a(_ text: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash &*= 16_777_619
        }
        return hash
    }
}
