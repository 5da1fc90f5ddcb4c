/// The protocol's messages as `Codable` types: the specification of each line's shape, for
/// clients that decode with `JSONDecoder` (Swift gateways, tools). The daemon writes the same
/// lines with `JSONWriter` for speed; `WireTypesTests` decodes the daemon's real output with
/// these types and checks the field names and types agree.

/// A route (docs/protocol.md, "Routes").
public struct WireRoute: Codable, Hashable, Sendable {
    /// The `key` field.
    public var key: String
    /// The `kind` field.
    public var kind: String
    /// The `tunnel` field.
    public var tunnel: String
    /// The `target` field.
    public var target: String?
    /// The `labels` field.
    public var labels: [String: String]
    /// The `allow` field: address blocks a gateway lets through (empty: everyone).
    public var allow: [String]
    /// The `deny` field: address blocks a gateway refuses.
    public var deny: [String]
    /// The `owner` field.
    public var owner: String
    /// The `session` field.
    public var session: String?
    /// The `created_at` field.
    public var createdAt: String
    /// The `updated_at` field.
    public var updatedAt: String
    /// The `expires_at` field.
    public var expiresAt: String?
    /// The `ttl` field.
    public var ttl: Double?
    /// The `create_revision` field.
    public var createRevision: UInt64
    /// The `mod_revision` field.
    public var modRevision: UInt64

    enum CodingKeys: String, CodingKey {
        case key, kind, tunnel, target, labels, allow, deny, owner, session, ttl
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case expiresAt = "expires_at"
        case createRevision = "create_revision"
        case modRevision = "mod_revision"
    }
}

/// The first line on every connection: `{"hello": Greeting}`.
public struct WireGreetingLine: Codable, Hashable, Sendable {
    /// The `hello` field.
    public var hello: WireGreeting
}

/// The greeting's content (also `hello`'s result).
public struct WireGreeting: Codable, Hashable, Sendable {
    /// Who the daemon takes the client for.
    public struct Principal: Codable, Hashable, Sendable {
        /// The `name` field.
        public var name: String
        /// The `admin` field.
        public var admin: Bool
    }

    /// The connection's session: its id and the token that resumes it.
    public struct Session: Codable, Hashable, Sendable {
        /// The `id` field.
        public var id: String
        /// The `resume_token` field.
        public var resumeToken: String

        enum CodingKeys: String, CodingKey {
            case id
            case resumeToken = "resume_token"
        }
    }

    /// The `server` field.
    public var server: String
    /// The `version` field.
    public var version: String
    /// The `protocol` field: the protocol version the daemon speaks.
    public var `protocol`: Int
    /// The `instance` field.
    public var instance: String
    /// The `revision` field.
    public var revision: UInt64
    /// The `principal` field.
    public var principal: Principal
    /// The `session` field.
    public var session: Session
    /// The longest request line the daemon accepts (`--max-line`), in bytes.
    public var maxLine: Int
    /// In `hello` replies with `resume`: how many routes were taken over.
    public var resumed: Int?
    /// The `store` field: where the table is kept (`kind` and, for a shared store, its `id`).
    public var store: WireStore?

    enum CodingKeys: String, CodingKey {
        case server, version, `protocol`, instance, revision, principal, session, resumed, store
        case maxLine = "max_line"
    }
}

/// The `store` object of the greeting and of `stats`: where the table is kept.
public struct WireStore: Codable, Hashable, Sendable {
    /// `memory` or `redis`.
    public var kind: String
    /// A shared store's id: the same on every daemon sharing it (and the greeting's `instance`).
    public var id: String?
    /// In `stats`: where the store is.
    public var location: String?
    /// In `stats`: whether writes can be decided now.
    public var available: Bool?
    /// In `stats`: why not, when they cannot.
    public var problem: String?
    /// In `stats`: the store's revision as last seen.
    public var revision: UInt64?
    /// In `stats`: how many revisions this daemon's table is behind the store's.
    public var behind: UInt64?
    /// In `stats`: milliseconds since this daemon last heard from the store.
    public var lastContactMs: Int?

    enum CodingKeys: String, CodingKey {
        case kind, id, location, available, problem, revision, behind
        case lastContactMs = "last_contact_ms"
    }
}

/// A request id as it comes back: a string or an integer.
public enum WireID: Codable, Hashable, Sendable {
    case number(Int64)
    case string(String)

    /// Decodes the value as it appears on the wire.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let n = try? container.decode(Int64.self) {
            self = .number(n)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    /// Encodes the value as the wire has it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let n): try container.encode(n)
        case .string(let s): try container.encode(s)
        }
    }
}

/// The `error` object of a failure line.
public struct WireError: Codable, Hashable, Sendable {
    /// The `code` field.
    public var code: String
    /// The `message` field.
    public var message: String
    /// The `details` field.
    public var details: [String: WireDetail]
}

/// A value inside `details`: a string, a number, or a nested object (the conflict's holder).
public enum WireDetail: Codable, Hashable, Sendable {
    case string(String)
    case number(Double)
    case object([String: WireDetail])
    case null

    /// Decodes the value as it appears on the wire.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let n = try? container.decode(Double.self) {
            self = .number(n)
        } else {
            self = .object(try container.decode([String: WireDetail].self))
        }
    }

    /// Encodes the value as the wire has it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let s): try container.encode(s)
        case .number(let n): try container.encode(n)
        case .object(let o): try container.encode(o)
        case .null: try container.encodeNil()
        }
    }
}

/// A final line: success with a `Result`, or failure with an error.
public struct WireReply<Result: Codable & Sendable>: Codable, Sendable {
    /// The `id` field.
    public var id: WireID?
    /// The `ok` field.
    public var ok: Bool
    /// The `revision` field.
    public var revision: UInt64?
    /// The `result` field.
    public var result: Result?
    /// The `error` field.
    public var error: WireError?
}

/// `{route}`: the result of `add` and of `touch` on one key.
public struct WireRouteResult: Codable, Hashable, Sendable {
    /// The `route` field.
    public var route: WireRoute
}

/// The result of `lookup` by name or key.
public struct WireLookupResult: Codable, Hashable, Sendable {
    /// The `route` field.
    public var route: WireRoute
    /// The `match` field.
    public var match: String
    /// The `via` field.
    public var via: String
}

/// The final line of `list`.
public struct WireListResult: Codable, Hashable, Sendable {
    /// The `count` field.
    public var count: Int
    /// The `revision` field.
    public var revision: UInt64
    /// The `next` field.
    public var next: String?
}

/// An item line of `list`.
public struct WireRouteItem: Codable, Hashable, Sendable {
    /// The `id` field.
    public var id: WireID?
    /// The `route` field.
    public var route: WireRoute
}

/// An event line of `watch`.
public struct WireEventLine: Codable, Hashable, Sendable {
    /// A change: its type, revision, key and route.
    public struct Event: Codable, Hashable, Sendable {
        /// The `type` field.
        public var type: String
        /// The `revision` field.
        public var revision: UInt64
        /// The `key` field.
        public var key: String?
        /// The `route` field.
        public var route: WireRoute?
    }

    /// The `id` field.
    public var id: WireID?
    /// The `event` field.
    public var event: Event
}

/// The result of `stats`.
public struct WireStats: Codable, Hashable, Sendable {
    /// Route counts by kind.
    public struct Routes: Codable, Hashable, Sendable {
        /// The `host` field.
        public var host: Int
        /// The `wildcard` field.
        public var wildcard: Int
        /// The `tcp` field.
        public var tcp: Int
        /// The `total` field.
        public var total: Int
    }

    /// The `routes` field.
    public var routes: Routes
    /// The `tunnels` field.
    public var tunnels: Int
    /// The `revision` field.
    public var revision: UInt64
    /// The `oldest_revision` field.
    public var oldestRevision: UInt64
    /// The `connections` field: socket connections.
    public var connections: Int
    /// The `http_connections` field (absent from daemons before 0.3).
    public var httpConnections: Int?
    /// The `watchers` field.
    public var watchers: Int
    /// The `sessions` field.
    public var sessions: Int
    /// The `uptime_s` field.
    public var uptimeS: Int
    /// The `rss_bytes` field.
    public var rssBytes: Int
    /// The `server` field.
    public var server: String?
    /// The `version` field.
    public var version: String?
    /// The `instance` field.
    public var instance: String
    /// The `max_line` field: the longest request line (and HTTP body) accepted.
    public var maxLine: Int?
    /// The `store` field.
    public var store: WireStore?
    /// The `namespaces` field: those the caller belongs to (an admin: all), with their use
    /// (absent from older daemons).
    public var namespaces: [WireNamespace]?

    enum CodingKeys: String, CodingKey {
        case routes, tunnels, revision, connections, watchers, sessions, server, version, instance, store, namespaces
        case oldestRevision = "oldest_revision"
        case httpConnections = "http_connections"
        case uptimeS = "uptime_s"
        case rssBytes = "rss_bytes"
        case maxLine = "max_line"
    }
}

/// A namespace as `stats` shows it: its rules, members, quotas and use.
public struct WireNamespace: Codable, Hashable, Sendable {
    /// Limits; absent: none.
    public struct Quota: Codable, Hashable, Sendable {
        public var routes: Int?
        public var tcpPorts: Int?
        public var sessionRoutes: Int?
        /// Seconds.
        public var longestTTL: Int?

        enum CodingKeys: String, CodingKey {
            case routes
            case tcpPorts = "tcp_ports"
            case sessionRoutes = "session_routes"
            case longestTTL = "longest_ttl"
        }
    }

    /// Who belongs: principal names and Unix groups.
    public struct Members: Codable, Hashable, Sendable {
        public var users: [String]
        public var groups: [String]
    }

    /// What it holds.
    public struct Use: Codable, Hashable, Sendable {
        public var routes: Int
        public var tcpPorts: Int
        /// Routes bound to a session (absent from older daemons).
        public var sessionRoutes: Int?
        /// Routes each owner holds in it.
        public var byOwner: [String: Int]

        enum CodingKeys: String, CodingKey {
            case routes
            case tcpPorts = "tcp_ports"
            case sessionRoutes = "session_routes"
            case byOwner = "by_owner"
        }
    }

    public var name: String
    /// `team` or `user`.
    public var kind: String
    /// A team's subtrees; a user namespace's template, `{user}.PARENT`.
    public var domains: [String]
    /// `LOW-HIGH`, or none.
    public var tcpPorts: String?
    public var members: Members
    public var admins: [String]
    public var quota: Quota
    public var memberQuota: Quota
    public var use: Use
    /// A reload lowered a quota below what is held.
    public var overQuota: Bool

    enum CodingKeys: String, CodingKey {
        case name, kind, domains, members, admins, quota, use
        case tcpPorts = "tcp_ports"
        case memberQuota = "member_quota"
        case overQuota = "over_quota"
    }
}
