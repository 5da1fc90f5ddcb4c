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
    private let waiting = Mutex<[UInt16: CheckedContinuation<Bool, Never>]>([:])
    /// NOTIFYs answered, by secondary: what tests and `stats` read.
    private let answered = Mutex<Int>(0)

    package init(targets: [SocketAddress], key: TSIGKey?, authority: DNSAuthority, gathering: Duration = .milliseconds(20), logger: Logger) {
        self.targets = targets
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
            let acknowledged = await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
                waiting.withLock { $0[id] = done }
                let envelope = AddressedEnvelope(remoteAddress: target, data: channel.allocator.buffer(bytes: bytes))
                channel.writeAndFlush(envelope, promise: nil)
                // No answer within the delay: this try failed.
                channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(delay.components.seconds) * 1_000_000_000)) { [self] in
                    self.finish(id, acknowledged: false)
                }
            }
            if acknowledged {
                answered.withLock { $0 += 1 }
                logger.info("DNS: NOTIFY for \(apex) answered by \(target)", metadata: ["serial": "\(authority.serial(of: zone))"])
                return
            }
            logger.info("DNS: NOTIFY for \(apex) to \(target) not answered (try \(attempt) of 5)")
            delay = delay * 2
        }
        logger.warning("DNS: \(target) did not answer NOTIFY for \(apex) five times; it will find the change at the SOA's refresh")
    }

    func finish(_ id: UInt16, acknowledged: Bool) {
        waiting.withLock { $0.removeValue(forKey: id) }?.resume(returning: acknowledged)
    }

    /// How many NOTIFYs secondaries have answered.
    package var answeredCount: Int { answered.withLock { $0 } }

    /// Matches answers to the NOTIFYs waiting for them.
    private final class ResponseHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let notifier: DNSNotifier

        init(notifier: DNSNotifier) { self.notifier = notifier }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(unwrapInboundIn(data).data.readableBytesView)
            guard let header = DNSMessage.header(of: bytes), header.flags & 0x8000 != 0,
                  (header.flags >> 11) & 0xF == UInt16(DNSOpcode.notify.rawValue) else { return }
            notifier.finish(header.id, acknowledged: header.flags & 0xF == 0)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {}
    }
}
