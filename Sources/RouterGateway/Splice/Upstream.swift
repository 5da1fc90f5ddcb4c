import DomainRouter
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Connections to a route's target.
enum Upstream {
    /// Connects to `target` on `eventLoop` (the downstream connection's, so that both sides'
    /// handlers run on one thread and call each other directly), within `timeout`.
    /// A host name is resolved with getaddrinfo on the event loop: targets are meant to be
    /// addresses, as routerd's `--allow-target` blocks are.
    static func connect(to target: RouteTarget, on eventLoop: any EventLoop, timeout: TimeAmount,
                        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>) -> EventLoopFuture<any Channel> {
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer(initializer)
        switch target {
        case .address(let host, let port):
            return bootstrap.connect(host: host, port: Int(port))
        case .unixSocket(let path):
            return bootstrap.connect(unixDomainSocketPath: path)
        }
    }
}

extension Channel {
    /// Closes with a TCP reset (SO_LINGER 0) rather than a FIN: what a client of a TLS or TCP
    /// route sees on a miss, a refused address or an unreadable hello.
    func reset() {
        guard let provider = self as? any SocketOptionProvider else {
            close(promise: nil)
            return
        }
        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in
            self.close(promise: nil)
        }
    }
}

extension ChannelHandlerContext {
    /// The peer's IP address, when the connection has one (not a Unix socket).
    var peerIP: IPAddress? {
        guard let address = channel.remoteAddress?.ipAddress else { return nil }
        return IPAddress(address)
    }
}
