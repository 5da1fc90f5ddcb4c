import NIOCore
import NIOPosix
import Synchronization

/// A target that answers every request head it reads with the same bytes, whatever they
/// are — a response a proxy must refuse as readily as one it must pass on — then closes its
/// side (or, with `keepsOpen`, waits for the next request on the connection): the subject of a
/// response-parsing test. The bytes can change between probes.
public final class ScriptedBackend: Sendable {
    public let port: Int
    private let channel: any Channel
    private let script: Shared

    final class Shared: Sendable {
        let bytes = Mutex<[UInt8]>([])
    }

    public init(keepsOpen: Bool = false) throws {
        let script = Shared()
        self.script = script
        channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Connection(script: script, keepsOpen: keepsOpen))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        port = channel.localAddress!.port!
    }

    /// `127.0.0.1:PORT`, as a route's target.
    public var target: String { "127.0.0.1:\(port)" }

    /// What the backend answers from now on.
    public func answer(_ text: String) {
        script.bytes.withLock { $0 = Array(text.utf8) }
    }

    deinit {
        channel.close(promise: nil)
    }

    final class Connection: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let script: Shared
        let keepsOpen: Bool
        var seen: [UInt8] = []
        var answered = false

        init(script: Shared, keepsOpen: Bool) {
            self.script = script
            self.keepsOpen = keepsOpen
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            seen += bytes.readBytes(length: bytes.readableBytes) ?? []
            while !answered, seen.count >= 4, let end = (0...(seen.count - 4)).first(where: { seen[$0..<$0 + 4] == [13, 10, 13, 10] }) {
                seen.removeFirst(end + 4)
                let response = ByteBuffer(bytes: script.bytes.withLock { $0 })
                if keepsOpen {
                    context.writeAndFlush(wrapOutboundOut(response), promise: nil)
                    continue
                }
                answered = true
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(response)).whenComplete { _ in
                    channel.close(mode: .output, promise: nil)
                }
            }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
