#if canImport(Glibc)
import Glibc
#endif
import DNSWire
import DomainRouter
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// routerd's DNS listener: UDP and TCP on one port (RFC 7766: TCP is not optional), answering
/// with `DNSAuthority`. A UDP answer fits the client's limit or is cut with TC; over TCP each
/// message has its two-byte length, several queries per connection, answered in order. Runs as
/// a `Service`: binds in `run()`, closes at graceful shutdown.
package final class DNSServer: Service, Sendable {
    package let authority: DNSAuthority
    /// UDP answers per second per client network; nil: no limit.
    let rateLimiter: DNSRateLimiter?
    let host: String
    let port: Int
    let logger: Logger
    /// How long a TCP connection may sit idle before it is closed (RFC 7766 §6.2.3).
    let idleTimeout: TimeAmount
    private let bound = Mutex<(udp: [Channel], tcp: Channel?)>(([], nil))
    private let boundPort = Mutex<Int?>(nil)

    package init(authority: DNSAuthority, host: String, port: Int, rateLimit: Int? = nil, idleTimeout: TimeAmount = .seconds(10),
                 logger: Logger) {
        self.authority = authority
        self.rateLimiter = rateLimit.map { DNSRateLimiter(rate: $0) }
        self.host = host
        self.port = port
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    /// Binds TCP and UDP on the same port (port 0: one the kernel picks for TCP, then UDP on
    /// it, again with another if UDP's is taken). UDP has one socket on each event loop, all on
    /// the port (SO_REUSEPORT: the kernel spreads clients over them), so every core answers.
    /// TCP binds first, without SO_REUSEPORT: a port the kernel picks for a UDP socket that
    /// allows sharing may be one another such socket of the same user holds already; a TCP
    /// listener's is its own.
    package func bind() async throws -> Int {
        let group = MultiThreadedEventLoopGroup.singleton
        let authority = self.authority
        let limiter = rateLimiter
        let idle = idleTimeout
        var attempts = 0
        while true {
            attempts += 1
            let tcp = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(IdleStateHandler(readTimeout: idle))
                        try sync.addHandler(ByteToMessageHandler(LengthPrefixDecoder()))
                        try sync.addHandler(TCPHandler(authority: authority))
                    }
                }
                .bind(host: host, port: port).get()
            let chosen = tcp.localAddress?.port ?? port
            var sockets: [Channel] = []
            do {
                for loop in group.makeIterator() {
                    sockets.append(try await DatagramBootstrap(group: loop)
                        .channelOption(.socketOption(.so_reuseaddr), value: 1)
                        .channelOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: 1)
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(UDPHandler(authority: authority, limiter: limiter))
                            }
                        }
                        .bind(host: host, port: chosen).get())
                }
                bound.withLock { $0 = (sockets, tcp) }
                boundPort.withLock { $0 = chosen }
                logger.notice("DNS listening on \(host.contains(":") ? "[\(host)]" : host):\(chosen) (udp, tcp)", metadata: ["dns": "\(chosen)"])
                return chosen
            } catch {
                for socket in sockets { try? await socket.close() }
                try? await tcp.close()
                // Port 0: TCP's port may be someone else's for UDP; try another.
                if port != 0 || attempts >= 10 { throw error }
            }
        }
    }

    package func run() async throws {
        if boundPort.withLock({ $0 }) == nil { _ = try await bind() }
        try await gracefulShutdown()
        let (udp, tcp) = bound.withLock { ($0.udp, $0.tcp) }
        for socket in udp { try? await socket.close() }
        try? await tcp?.close()
    }
}

/// Answers each datagram where it arrives.
private final class UDPHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let authority: DNSAuthority
    let limiter: DNSRateLimiter?

    init(authority: DNSAuthority, limiter: DNSRateLimiter?) {
        self.authority = authority
        self.limiter = limiter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let bytes = Array(envelope.data.readableBytesView)
        let from = envelope.remoteAddress.ipAddress.flatMap(IPAddress.init)
        for var answer in authority.respond(to: bytes, over: .udp, from: from) {
            if let limiter, let from {
                switch limiter.admit(from) {
                case .send: break
                case .drop:
                    authority.metrics?.dnsQuery(type: "-", code: "rate_limited", transport: "udp")
                    continue
                case .slip:
                    // Empty and truncated: a resolver at that address asks again over TCP.
                    guard var cut = try? DNSMessage(parsing: answer) else { continue }
                    cut.isTruncated = true
                    cut.answers = []
                    cut.authority = []
                    cut.additional = []
                    answer = (try? cut.bytes()) ?? []
                    authority.metrics?.dnsQuery(type: "-", code: "rate_limited", transport: "udp")
                }
            }
            let out = context.channel.allocator.buffer(bytes: answer)
            context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: out)), promise: nil)
        }
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A datagram error (an ICMP unreachable for an earlier answer) ends nothing.
    }
}

/// RFC 1035 §4.2.2: each TCP message is preceded by its length, two bytes.
struct LengthPrefixDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }
}

/// Answers each framed query in order; closes when idle or when the client closes its side.
private final class TCPHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let authority: DNSAuthority

    init(authority: DNSAuthority) { self.authority = authority }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(unwrapInboundIn(data).readableBytesView)
        let from = context.channel.remoteAddress?.ipAddress.flatMap(IPAddress.init)
        for answer in authority.respond(to: bytes, over: .tcp, from: from) {
            var out = context.channel.allocator.buffer(capacity: answer.count + 2)
            out.writeInteger(UInt16(answer.count))
            out.writeBytes(answer)
            context.write(wrapOutboundOut(out), promise: nil)
        }
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed? = event as? ChannelEvent {
            // The client is done asking: close once the answers already queued are written.
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                bound.value.close(promise: nil)
            }
            return
        }
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
