import NIOCore
import NIOHTTP1

/// The last outbound handler of a target's connection, in place of SwiftNIO's request
/// encoder: the proxy writes each request already as bytes — its head from
/// `HTTPForwarding.upstreamHead`, the body framed by the proxy itself — in body parts. A head
/// part goes before them only for the response decoder, which watches what goes out to learn
/// each request's method (the response to a HEAD has no body); it is not sent. An end part
/// sends nothing either: a chunked body's last chunk came as bytes before it.
final class UpstreamRequestWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = IOData

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .body(let bytes): context.write(wrapOutboundOut(bytes), promise: promise)
        case .head, .end: promise?.succeed()
        }
    }

    /// The head part that tells the response decoder a request's method, before its bytes.
    static func methodHead(_ method: HTTPMethod) -> HTTPClientRequestPart {
        .head(method == .GET ? get : HTTPRequestHead(version: .http1_1, method: method, uri: "/"))
    }

    private static let get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
}
