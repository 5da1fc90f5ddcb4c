import NIOCore

/// What `routergw` listens on and how long it waits. Every field has the command's default.
public struct GatewayConfiguration: Sendable {
    /// A listening address: host and port.
    public struct Address: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        /// An address to listen on.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `HOST:PORT`, or `[v6]:PORT`.
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// The HTTP listener (routing by Host), if any.
    public var http: Address?
    /// The TLS pass-through listener (routing by SNI), if any.
    public var tls: Address?
    /// The address `tcp:N` routes listen on (port N), if TCP routes are served.
    public var tcpHost: String?
    /// How long a target may take to accept a connection and to begin its response.
    public var upstreamTimeout: TimeAmount
    /// How long a new HTTP connection may take to send its first request head.
    public var headerTimeout: TimeAmount
    /// How long an HTTP connection may sit between requests before it is closed.
    public var idleTimeout: TimeAmount
    /// How long a TLS client may take to send a ClientHello that names the server.
    public var helloTimeout: TimeAmount
    /// Client connections open at once, over all listeners; more are closed on accept.
    public var maximumConnections: Int
    /// Idle connections kept per target on each event loop for the next request to it, from
    /// any client; 0 keeps none (every request opens its own connection).
    public var maximumIdleUpstream: Int

    /// A configuration with the command's defaults.
    public init(http: Address? = nil, tls: Address? = nil, tcpHost: String? = nil,
                upstreamTimeout: TimeAmount = .seconds(30), headerTimeout: TimeAmount = .seconds(10),
                idleTimeout: TimeAmount = .seconds(60), helloTimeout: TimeAmount = .seconds(5),
                maximumConnections: Int = 10_000, maximumIdleUpstream: Int = 64) {
        self.http = http
        self.tls = tls
        self.tcpHost = tcpHost
        self.upstreamTimeout = upstreamTimeout
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.helloTimeout = helloTimeout
        self.maximumConnections = maximumConnections
        self.maximumIdleUpstream = maximumIdleUpstream
    }
}
