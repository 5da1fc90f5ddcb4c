/// Where a Redis is and how to log in: what `routerd --store` names.
public struct RedisConfiguration: Hashable, Sendable {
    /// How to reach the server.
    public enum Endpoint: Hashable, Sendable {
        /// A Unix socket path.
        case unix(path: String)
        /// A host name or address and a port.
        case tcp(host: String, port: Int)
    }

    public var endpoint: Endpoint
    /// The ACL user for `AUTH` (Redis 6+); nil for the default user.
    public var user: String?
    /// The password for `AUTH`; nil for none. Never taken from a URL: it would show in `ps`.
    public var password: String?
    /// The database `SELECT`ed after connecting.
    public var database: Int

    /// A configuration from its parts.
    public init(endpoint: Endpoint, user: String? = nil, password: String? = nil, database: Int = 0) {
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.database = database
    }

    /// Reads `redis://[USER@]HOST:PORT[/DB]` or `redis+unix:///PATH[?db=N]`. A password in
    /// the URL is refused (it would show in the process list); pass it as `password`.
    public init(url: String, password: String? = nil) throws(RedisError) {
        self.password = password
        if url.hasPrefix("redis+unix://") {
            var rest = Substring(url.dropFirst("redis+unix://".count))
            database = 0
            if let q = rest.firstIndex(of: "?") {
                let query = rest[rest.index(after: q)...]
                rest = rest[..<q]
                for pair in query.split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2, parts[0] == "db", let n = Int(parts[1]), n >= 0 else {
                        throw .configuration("'\(pair)' in \(url): the only option is db=N")
                    }
                    database = n
                }
            }
            guard rest.hasPrefix("/"), rest.count > 1 else {
                throw .configuration("\(url) names no socket: write redis+unix:///path/to/redis.sock")
            }
            endpoint = .unix(path: String(rest))
            user = nil
            return
        }
        guard url.hasPrefix("redis://") else {
            throw .configuration("\(url) is not a Redis URL: use redis://[USER@]HOST:PORT[/DB] or redis+unix:///PATH[?db=N]")
        }
        var rest = Substring(url.dropFirst("redis://".count))
        user = nil
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            guard !userinfo.contains(":") else {
                throw .configuration("a password in the URL would show in the process list: give it in ROUTER_REDIS_PASSWORD or --store-password-file")
            }
            user = userinfo.isEmpty ? nil : String(userinfo)
            rest = rest[rest.index(after: at)...]
        }
        database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let n = Int(db), n >= 0 else { throw .configuration("'\(db)' in \(url) is not a database number") }
                database = n
            }
            rest = rest[..<slash]
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            // An IPv6 address: [ADDR] or [ADDR]:PORT.
            guard let close = rest.firstIndex(of: "]") else {
                throw .configuration("\(url) opens an IPv6 address with '[' but does not close it: use redis://[::1]:6379")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .configuration("'\(after)' after the address in \(url) is not :PORT") }
                portText = after.dropFirst()
            }
            guard host.contains(":") else { throw .configuration("'[\(host)]' in \(url) is not an IPv6 address") }
        } else {
            host = rest
            if let colon = rest.lastIndex(of: ":") {
                host = rest[..<colon]
                portText = rest[rest.index(after: colon)...]
            }
            guard !host.contains(":"), !host.contains("["), !host.contains("]") else {
                throw .configuration("the host in \(url) is not a name or an address: an IPv6 address goes in brackets, redis://[::1]:6379")
            }
        }
        var port = 6379
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else {
                throw .configuration("the port in \(url) is not a number from 1 to 65535")
            }
            port = p
        }
        guard !host.isEmpty else { throw .configuration("\(url) names no host") }
        endpoint = .tcp(host: String(host), port: port)
    }

    /// The endpoint for messages: the socket path or host:port, and the database.
    public var description: String {
        let place: String
        switch endpoint {
        case .unix(let path): place = path
        case .tcp(let host, let port): place = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
        return database == 0 ? place : "\(place) db \(database)"
    }
}
