import DNSWire
import DomainRouter
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Tells secondaries that a zone changed (NOTIFY, RFC 1996), so they transfer it now rather
/// than at the SOA's refresh. Changes that come close together go out as one NOTIFY per zone
/// and secondary; each is sent again (after 1, 2, 4, 8 s) until the secondary answers. Signed
/// with `key` when one is given. A `Service`.
package final class DNSNotifier: Service, Sendable {
    let targets: [SocketAddress]
    let key: TSIGKey?
    let authority: DNSAuthority
    let logger: Logger
    /// How long changes gather before a NOTIFY goes out.
    let gathering: Duration
    private let signal: (stream: AsyncStream<[String]>, continuation: AsyncStream<[String]>.Continuation)
    private let waiting = Mutex<[UInt16: CheckedContinuation<[UInt8]?, Never>]>([:])
    /// Ask each secondary its serial first (`raiseSerial`): for an in-memory routerd, whose
    /// revisions start again at each start.
    let probeSerials: Bool

    package init(targets: [SocketAddress], key: TSIGKey?, authority: DNSAuthority, probeSerials: Bool = false,
                 gathering: Duration = .milliseconds(20), logger: Logger) {
        self.targets = targets
        self.probeSerials = probeSerials
        self.key = key
        self.authority = authority
        self.gathering = gathering
        self.logger = logger
        signal = AsyncStream.makeStream(of: [String].self, bufferingPolicy: .bufferingNewest(1024))
    }

    /// Zones whose serial moved (the follower's cue).
    package func changed(_ zones: [String]) {
        signal.continuation.yield(zones)
    }

    package func run() async throws {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ResponseHandler(notifier: self)) }
            }
            .bind(host: targets.contains { $0.protocol == .inet6 } ? "::" : "0.0.0.0", port: 0).get()
        defer { channel.close(promise: nil) }
        if probeSerials, let follower = authority.follower {
            for apex in follower.zoneApexes {
                for target in targets {
                    if let theirs = await askSerial(of: apex, at: target, over: channel) { follower.raiseSerial(above: theirs) }
                }
            }
        }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var pending: Set<String> = []
                for await zones in signal.stream {
                    pending.formUnion(zones)
                    // Let a burst of changes gather into one NOTIFY.
                    try? await Task.sleep(for: gathering)
                    let now = pending
                    pending = []
                    for zone in now {
                        for target in targets {
                            group.addTask { await self.notify(zone, to: target, over: channel) }
                        }
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.signal.continuation.finish()
        }
    }

    /// The serial a secondary holds for the zone (its SOA, asked once, 2 s to answer); nil when
    /// it does not answer with one.
    func askSerial(of apex: String, at target: SocketAddress, over channel: Channel) async -> UInt32? {
        guard let zone = try? DNSName(apex) else { return nil }
        let id = UInt16.random(in: 0...UInt16.max)
        guard var bytes = try? DNSMessage(id: id, questions: [DNSQuestion(name: zone, type: .soa)]).bytes() else { return nil }
        if let key { bytes = TSIG.sign(bytes, key: key, time: authority.clock(), chain: .request).bytes }
        let reply = await send(bytes, id: id, to: target, over: channel, waiting: .seconds(2))
        guard let reply, let answer = try? DNSMessage(parsing: reply), answer.responseCode == .noError,
              case .soa(let soa)? = answer.answers.first(where: { $0.type == .soa })?.data else { return nil }
        return soa.serial
    }

    /// Sends `bytes` and waits up to `delay` for the answer with `id`.
    func send(_ bytes: [UInt8], id: UInt16, to target: SocketAddress, over channel: Channel, waiting delay: Duration) async -> [UInt8]? {
        await withCheckedContinuation { (done: CheckedContinuation<[UInt8]?, Never>) in
            waiting.withLock { $0[id] = done }
            let envelope = AddressedEnvelope(remoteAddress: target, data: channel.allocator.buffer(bytes: bytes))
            channel.writeAndFlush(envelope, promise: nil)
            // No answer within the delay: nothing.
            channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(delay.components.seconds) * 1_000_000_000)) { [self] in
                self.finish(id, reply: nil)
            }
        }
    }

    /// Sends one NOTIFY until it is answered or five tries have gone unanswered.
    func notify(_ apex: String, to target: SocketAddress, over channel: Channel) async {
        guard let zone = try? DNSName(apex) else { return }
        var delay = Duration.seconds(1)
        for attempt in 1...5 {
            if Task.isCancelled { return }
            let id = UInt16.random(in: 0...UInt16.max)
            var message = DNSMessage(id: id, questions: [DNSQuestion(name: zone, type: .soa)])
            message.opcode = .notify
            message.isAuthoritative = true
            message.answers = [authority.soa(of: zone)]
            guard var bytes = try? message.bytes() else { return }
            if let key { bytes = TSIG.sign(bytes, key: key, time: authority.clock(), chain: .request).bytes }
            let reply = await send(bytes, id: id, to: target, over: channel, waiting: delay)
            // An answer to the NOTIFY, without error.
            let acknowledged = reply.map { DNSMessage.header(of: $0).map { ($0.flags >> 11) & 0xF == 4 && $0.flags & 0xF == 0 } ?? false } ?? false
            if acknowledged {
                logger.info("DNS: NOTIFY for \(apex) answered by \(target)", metadata: ["serial": "\(authority.serial(of: zone))"])
                return
            }
            logger.info("DNS: NOTIFY for \(apex) to \(target) not answered (try \(attempt) of 5)")
            delay = delay * 2
        }
        logger.warning("DNS: \(target) did not answer NOTIFY for \(apex) five times; it will find the change at the SOA's refresh")
    }

    func finish(_ id: UInt16, reply: [UInt8]?) {
        waiting.withLock { $0.removeValue(forKey: id) }?.resume(returning: reply)
    }

    /// Matches answers to the NOTIFYs waiting for them.
    private final class ResponseHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let notifier: DNSNotifier

        init(notifier: DNSNotifier) { self.notifier = notifier }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(unwrapInboundIn(data).data.readableBytesView)
            guard let header = DNSMessage.header(of: bytes), header.flags & 0x8000 != 0 else { return }
            notifier.finish(header.id, reply: bytes)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {}
    }
}
