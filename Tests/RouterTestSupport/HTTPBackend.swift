import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A real HTTP/1.1 server on 127.0.0.1 (SwiftNIO), the service behind a gateway in tests:
/// every request is answered with JSON saying what arrived — `server` (this backend's name),
/// `method`, `uri`, `headers` (lower-cased names), `body_bytes` (counted as the body
/// streams, never held) — and a WebSocket upgrade gets an echo of every text frame.
public final class HTTPBackend: Sendable {
    public let name: String
    public let port: Int
    private let channel: any Channel

    /// Starts a backend called `name` on a port the kernel picks.
    public init(name: String) throws {
        self.name = name
        let upgrader = NIOWebSocketServerUpgrader(
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.removeHandler(pipeline.handler(type: Responder.self), promise: nil)
                    try pipeline.addHandler(WebSocketEcho())
                }
            })
        channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrade: NIOHTTPServerUpgradeSendableConfiguration = (upgraders: [upgrader], completionHandler: { _ in })
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withServerUpgrade: upgrade)
                    try channel.pipeline.syncOperations.addHandler(Responder(name: name))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        port = channel.localAddress!.port!
    }

    /// `127.0.0.1:PORT`, as a route's target.
    public var target: String { "127.0.0.1:\(port)" }

    /// Stops listening (open connections end with their clients).
    public func stop() {
        try? channel.close().wait()
    }

    deinit {
        channel.close(promise: nil)
    }

    final class Responder: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let name: String
        var head: HTTPRequestHead?
        var bytes = 0

        init(name: String) { self.name = name }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                bytes = 0
            case .body(let body):
                bytes += body.readableBytes
            case .end:
                guard let head else { return }
                var headers: [String: String] = [:]
                for (name, value) in head.headers {
                    let key = name.lowercased()
                    headers[key] = headers[key].map { $0 + ", " + value } ?? value
                }
                let object: [String: Any] = ["server": name, "method": head.method.rawValue, "uri": head.uri,
                                             "headers": headers, "body_bytes": bytes]
                let json = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
                var response = HTTPHeaders()
                response.add(name: "Content-Type", value: "application/json")
                response.add(name: "Content-Length", value: String(json.count))
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: response))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: json)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                self.head = nil
            }
        }
    }

    final class WebSocketEcho: ChannelInboundHandler {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            switch frame.opcode {
            case .text, .binary:
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: frame.opcode, data: frame.unmaskedData)), promise: nil)
            case .connectionClose:
                context.close(promise: nil)
            default:
                break
            }
        }
    }
}

/// A TCP listener that never accepts: connections to it are made by the kernel and then
/// never answered (a target that hangs).
public final class SilentListener {
    public let port: Int
    private let fd: Int32

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw LaunchError("cannot listen: \(String(cString: strerror(errno)))")
        }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
