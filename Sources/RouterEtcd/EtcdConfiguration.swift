/// Where an etcd cluster is and how to talk to it: what `routerd --store etcd://…` names.
public struct EtcdConfiguration: Hashable, Sendable {
    /// One member's client address.
    public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `HOST:PORT`, an IPv6 address in brackets.
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// The members the client may use, in the order it tries them.
    public var endpoints: [Endpoint]
    /// Whether to speak TLS (`etcds://`).
    public var tls: Bool
    /// PEM file of the certificate authorities trusted for the members' certificates (else the
    /// system's).
    public var caFile: String?
    /// PEM files of a client certificate and its key, for members that ask for one.
    public var certificateFile: String?
    public var keyFile: String?
    /// The etcd user and password (`etcdctl user add`), when authentication is on. Never taken
    /// from the URL: it would show in the process list.
    public var user: String?
    public var password: String?

    /// Reads `etcd://HOST:PORT[,HOST:PORT…]` or `etcds://…` (port 2379 when left out). A user
    /// or password in the URL is refused.
    public init(url: String) throws(EtcdError) {
        let scheme: String
        if url.hasPrefix("etcd://") {
            scheme = "etcd://"
            tls = false
        } else if url.hasPrefix("etcds://") {
            scheme = "etcds://"
            tls = true
        } else {
            throw .configuration("\(url) is not an etcd URL: use etcd://HOST:PORT[,HOST:PORT…] or etcds://… for TLS")
        }
        var rest = Substring(url.dropFirst(scheme.count))
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("@") else {
            throw .configuration("a user or password in the URL would show in the process list: give them in ROUTER_ETCD_USER and ROUTER_ETCD_PASSWORD or --store-password-file")
        }
        guard !rest.contains("/"), !rest.contains("?") else {
            throw .configuration("\(url): an etcd URL names members only (HOST:PORT, comma-separated); the key prefix is --store-prefix")
        }
        guard !rest.isEmpty else { throw .configuration("\(url) names no member: write etcd://HOST:PORT[,HOST:PORT…]") }
        var endpoints: [Endpoint] = []
        for part in rest.split(separator: ",", omittingEmptySubsequences: false) {
            endpoints.append(try Self.endpoint(part, in: url))
        }
        self.endpoints = endpoints
    }

    static func endpoint(_ text: Substring, in url: String) throws(EtcdError) -> Endpoint {
        guard !text.isEmpty else { throw .configuration("\(url) has an empty member between commas") }
        var host: Substring
        var port = 2379
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .configuration("'\(text)' in \(url): an IPv6 address needs its closing ]") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let n = Int(after.dropFirst()) else { throw .configuration("'\(text)' in \(url): write [ADDRESS]:PORT") }
                port = n
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            guard let n = Int(text[text.index(after: colon)...]) else { throw .configuration("'\(text)' in \(url): the port is not a number") }
            port = n
        } else {
            host = text
        }
        guard !host.isEmpty else { throw .configuration("'\(text)' in \(url) names no host") }
        guard (1...65535).contains(port) else { throw .configuration("'\(text)' in \(url): port \(port) is not between 1 and 65535") }
        return Endpoint(host: String(host), port: port)
    }

    /// The URL of a member's JSON gateway.
    func base(_ endpoint: Endpoint) -> String { (tls ? "https://" : "http://") + endpoint.description }

    /// `etcd://A,B,C` as given (without credentials), for messages.
    public var description: String {
        (tls ? "etcds://" : "etcd://") + endpoints.map(\.description).joined(separator: ",")
    }
}
