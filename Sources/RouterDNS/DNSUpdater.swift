import DNSWire
import DomainRouter
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Keeps a zone on an existing primary in step with the table by RFC 2136 UPDATE, signed with
/// TSIG: for an operator whose DNS is already run by BIND, Knot or PowerDNS. routerd marks
/// each name it creates with a TXT record beside it (`heritage=routerd,routerd/owner=ID`, as
/// external-dns does), and touches only the records it created: its addresses at a name it
/// marked, and the mark. At start, and whenever the change journal no longer reaches back, it
/// transfers the zone (AXFR) and reconciles: adds what the table routes and the zone lacks,
/// removes what it created and the table no longer routes, and leaves alone every name it
/// did not create (logged). Changes go in order, in batches, each retried with backoff until
/// the primary takes it. A `Service`.
package final class DNSUpdater: Service, Sendable {
    let server: SocketAddress
    let zone: DNSName
    let apex: String
    let key: TSIGKey?
    let owner: String
    let authority: DNSAuthority
    let follower: DNSZoneFollower
    let logger: Logger
    private let signal: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)
    private let progress = Mutex<Progress>(Progress())

    struct Progress {
        /// The serial whose content the primary holds, once reconciled.
        var serial: UInt32?
        /// Names in the zone with records routerd did not create: never touched.
        var foreign: Set<String> = []
    }

    /// The most bytes of records one UPDATE carries (TCP allows 65,535 with the header).
    static let batchBytes = 32_000

    package init(server: SocketAddress, zone: DNSName, key: TSIGKey?, owner: String, authority: DNSAuthority,
                 follower: DNSZoneFollower, logger: Logger) {
        self.server = server
        self.zone = zone.lowercased()
        self.apex = zone.lowercased().hostName ?? zone.description
        self.key = key
        self.owner = owner
        self.authority = authority
        self.follower = follower
        self.logger = logger
        signal = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        follower.onChange { [signal] zones in
            if zones.contains(zone.lowercased().hostName ?? "") { signal.continuation.yield() }
        }
    }

    /// The TXT data that marks a name as routerd's.
    var mark: [UInt8] { Array("heritage=routerd,routerd/owner=\(owner)".utf8) }

    package func run() async throws {
        signal.continuation.yield()
        try await cancelWhenGracefulShutdown {
            var backoff = Duration.seconds(1)
            for await _ in self.signal.stream {
                while !Task.isCancelled {
                    do {
                        try await self.sync()
                        backoff = .seconds(1)
                        break
                    } catch {
                        self.logger.warning("DNS UPDATE to \(self.server) for \(self.apex) failed: \(error); trying again in \(backoff)")
                        try await Task.sleep(for: backoff)
                        backoff = min(backoff * 2, .seconds(60))
                    }
                }
            }
        }
    }

    /// Brings the primary up to the follower's zone: the journal's changes since the last sync,
    /// or a whole reconcile.
    func sync() async throws {
        let known = progress.withLock { $0.serial }
        if let known, let change = follower.changes(of: apex, since: known) {
            guard change.from != change.to || !change.added.isEmpty || !change.removed.isEmpty else { return }
            let foreign = progress.withLock { $0.foreign }
            for name in change.added where foreign.contains(name) {
                logger.notice("DNS UPDATE: \(name) is routed, but \(server) has records there that routerd did not create; left alone")
            }
            try await send(adding: change.added.filter { !foreign.contains($0) },
                           removing: change.removed.filter { !foreign.contains($0) })
            progress.withLock { $0.serial = change.to }
            return
        }
        try await reconcile()
    }

    /// Transfers the zone from the primary and makes routerd's part of it match the table.
    func reconcile() async throws {
        guard let held = follower.snapshot(of: apex) else { return }
        let records = try await transferZone()
        var names: [String: [DNSRecord]] = [:]
        for record in records where record.type != .soa {
            guard let name = record.name.hostName else { continue }
            names[name, default: []].append(record)
        }
        var ours: Set<String> = []
        var foreign: Set<String> = []
        for (name, set) in names where name != apex {
            let marked = set.contains { if case .txt(let strings) = $0.data { strings == [mark] } else { false } }
            if marked { ours.insert(name) } else { foreign.insert(name) }
        }
        let desired = Set(held.owners)
        let skipped = desired.filter { foreign.contains($0) }
        for name in skipped.sorted() {
            logger.notice("DNS UPDATE: \(name) is routed, but \(server) has records there that routerd did not create; left alone")
        }
        let adding = desired.subtracting(ours).subtracting(foreign).sorted()
        let removing = ours.subtracting(desired).sorted()
        try await send(adding: adding, removing: removing)
        progress.withLock {
            $0.serial = held.serial
            $0.foreign = foreign
        }
        logger.notice("DNS UPDATE: \(apex) on \(server) reconciled at serial \(held.serial): \(adding.count) added, \(removing.count) removed, \(skipped.count) left to their owners")
    }

    /// The records routerd keeps at `owner`: the gateway's addresses and the mark.
    func records(at owner: String) -> [DNSRecord] {
        guard let name = try? DNSName(owner) else { return [] }
        return authority.zones.addresses.map { DNSRecord(name: name, ttl: authority.zones.ttl, data: $0) }
            + [DNSRecord(name: name, ttl: authority.zones.ttl, data: .txt([mark]))]
    }

    /// UPDATE messages adding and removing routerd's records at these owners, in order, each
    /// taken before the next is sent.
    func send(adding: [String], removing: [String]) async throws {
        var updates: [DNSRecord] = []
        for owner in removing {
            // Delete exactly the records routerd added (class NONE, RFC 2136 §2.5.4).
            for record in records(at: owner) {
                updates.append(DNSRecord(name: record.name, type: record.type, recordClass: .none, ttl: 0, data: record.data))
            }
        }
        for owner in adding { updates += records(at: owner) }
        guard !updates.isEmpty else { return }
        var batches: [[DNSRecord]] = [[]]
        var size = 0
        for record in updates {
            let estimate = record.name.wire.count + 10 + 80
            if size + estimate > Self.batchBytes, !batches[batches.count - 1].isEmpty {
                batches.append([])
                size = 0
            }
            batches[batches.count - 1].append(record)
            size += estimate
        }
        try await exchange(batches.map { batch -> DNSMessage in
            var message = DNSMessage(id: UInt16.random(in: 0...UInt16.max), questions: [DNSQuestion(name: zone, type: .soa)])
            message.opcode = .update
            message.authority = batch
            return message
        }, check: { response in
            guard response.responseCode == .noError else {
                throw DNSError(.badRecord, "the primary refused the UPDATE with \(response.responseCode)")
            }
        })
    }

    /// The zone's records, by AXFR from the primary.
    func transferZone() async throws -> [DNSRecord] {
        let query = DNSMessage(id: UInt16.random(in: 0...UInt16.max), questions: [DNSQuestion(name: zone, type: .axfr)])
        var records: [DNSRecord] = []
        var soas = 0
        try await exchange([query], untilDone: { response in
            guard response.responseCode == .noError else {
                throw DNSError(.badRecord, "the primary refused the transfer of \(self.apex) with \(response.responseCode)")
            }
            for record in response.answers {
                if record.type == .soa { soas += 1 }
                records.append(record)
            }
            return soas >= 2
        })
        return records
    }

    /// Sends each message (signed) on one TCP connection and hands each answer to `check`.
    func exchange(_ messages: [DNSMessage], check: @escaping (DNSMessage) throws -> Void) async throws {
        try await exchange(messages, untilDone: { response in
            try check(response)
            return true
        })
    }

    /// Sends the messages in order; for each, reads answers until `untilDone` says it is whole.
    func exchange(_ messages: [DNSMessage], untilDone: @escaping (DNSMessage) throws -> Bool) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(to: server) { channel in
                channel.eventLoop.makeCompletedFuture {
                    // An answer that does not come within 10 s ends the exchange (and the try).
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(10)))
                    try channel.pipeline.syncOperations.addHandler(CloseWhenIdle())
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LengthPrefixDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var answers = inbound.makeAsyncIterator()
            for message in messages {
                var bytes = try message.bytes()
                // The answers must be signed with the same key, each chained to the MAC before it
                // (RFC 8945 §5.3): otherwise anyone on the path could answer for the primary.
                var prior: [UInt8]?
                if let key {
                    let signed = TSIG.sign(bytes, key: key, time: authority.clock(), chain: .request)
                    bytes = signed.bytes
                    prior = signed.mac
                }
                var out = ByteBuffer()
                out.writeInteger(UInt16(bytes.count))
                out.writeBytes(bytes)
                try await outbound.write(out)
                var first = true
                while true {
                    guard let buffer = try await answers.next() else {
                        throw DNSError(.truncated, "\(self.server) closed the connection, or did not answer within 10 s")
                    }
                    let raw = Array(buffer.readableBytesView)
                    let response = try DNSMessage(parsing: raw)
                    guard response.id == message.id else { continue }
                    if let key, let mac = prior {
                        let chain: TSIG.Chain = first ? .response(requestMAC: mac) : .continuation(priorMAC: mac)
                        do {
                            guard let verified = try TSIG.verify(raw, keys: [key.name: key], now: authority.clock(), chain: chain) else {
                                throw DNSError(.badRecord, "\(self.server) answered without a TSIG signature")
                            }
                            prior = verified.mac
                        } catch let failure as TSIG.Failure {
                            throw DNSError(.badRecord, "\(self.server)'s answer does not check against key \(key.name) (\(failure))")
                        }
                    }
                    first = false
                    if try untilDone(response) { break }
                }
            }
        }
    }
}

/// Closes a connection whose read side has been idle past its `IdleStateHandler`'s limit.
final class CloseWhenIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
