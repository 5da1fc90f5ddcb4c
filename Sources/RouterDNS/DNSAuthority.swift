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

    package init(zones: DNSZones, table: RouteTable, instance: @escaping @Sendable () -> String, metrics: RouterMetrics? = nil) {
        self.zones = zones
        self.table = table
        self.instance = instance
        self.metrics = metrics
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
                // The wildcard's own name, asked literally, is the wildcard route's.
                if let key = try? table.key(host), (try? table.lookup(key: key)) != nil {
                    return (zone, .routed(via: host, wildcard: true))
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
    package func serial() -> UInt32 {
        DNSSerial.serial(sequence: instance(), revision: table.revision)
    }

    /// The zone's SOA record.
    package func soa(of zone: DNSName) -> DNSRecord {
        let mailbox = zones.hostmaster ?? ((try? zone.prepending("hostmaster")) ?? zone)
        return DNSRecord(name: zone, ttl: zones.negativeTTL, data: .soa(.init(
            primary: zones.nameservers[0], mailbox: mailbox, serial: serial(), refresh: zones.refresh, retry: zones.retry,
            expire: zones.expire, minimum: zones.negativeTTL)))
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
            // Zone transfers come with their own slice of the work (NOTIFY, AXFR/IXFR, TSIG).
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

    /// The bytes to send back for a query's bytes; nil to send nothing (a message too short to
    /// have an id, or a response: answering one would let two servers bounce packets forever).
    package func respond(to bytes: [UInt8], over transport: Transport) -> [UInt8]? {
        guard let header = DNSMessage.header(of: bytes), header.flags & 0x8000 == 0 else {
            metrics?.dnsQuery(type: "-", code: "dropped", transport: transport.rawValue)
            return nil
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
            return try? formErr.bytes()
        }
        let response = answer(query)
        let type = query.questions.first.map { DNSAuthority.typeLabel($0.type) } ?? "-"
        metrics?.dnsQuery(type: type, code: response.responseCode.description, transport: transport.rawValue)
        switch transport {
        case .tcp:
            return response.bytes(fitting: 65_535)
        case .udp:
            // 512 bytes without EDNS (RFC 1035 §4.2.1); with it, what the client reassembles,
            // never more than routerd's own limit.
            let limit = query.edns.map { min(zones.udpLimit, max(512, Int($0.payloadSize))) } ?? 512
            return response.bytes(fitting: limit)
        }
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

    static func fnv1a(_ text: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash &*= 16_777_619
        }
        return hash
    }
}
