/// The protocol's messages as `Codable` types: the specification of each line's shape, for
/// clients that decode with `JSONDecoder` (Swift gateways, tools). The daemon writes the same
/// lines with `JSONWriter` for speed; `WireTypesTests` decodes the daemon's real output with
/// these types and checks the field names and types agree.

/// A route (docs/protocol.md, "Routes").
public struct WireRoute: Codable, Hashable, Sendable {
    public var key: String
    public var kind: String
    public var tunnel: String
    public var target: String?
    public var labels: [String: String]
    public var owner: String
    public var session: String?
    public var createdAt: String
    public var updatedAt: String
    public var expiresAt: String?
    public var ttl: Double?
    public var createRevision: UInt64
    public var modRevision: UInt64

    enum CodingKeys: String, CodingKey {
        case key, kind, tunnel, target, labels, owner, session, ttl
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case expiresAt = "expires_at"
        case createRevision = "create_revision"
        case modRevision = "mod_revision"
    }
}

/// The first line on every connection: `{"hello": Greeting}`.
public struct WireGreetingLine: Codable, Hashable, Sendable {
    public var hello: WireGreeting
}

public struct WireGreeting: Codable, Hashable, Sendable {
    public struct Principal: Codable, Hashable, Sendable {
        public var name: String
        public var admin: Bool
    }

    public struct Session: Codable, Hashable, Sendable {
        public var id: String
        public var resumeToken: String

        enum CodingKeys: String, CodingKey {
            case id
            case resumeToken = "resume_token"
        }
    }

    public var server: String
    public var version: String
    public var `protocol`: Int
    public var instance: String
    public var revision: UInt64
    public var principal: Principal
    public var session: Session
    /// The longest request line the daemon accepts (`--max-line`), in bytes.
    public var maxLine: Int
    /// In `hello` replies with `resume`: how many routes were taken over.
    public var resumed: Int?

    enum CodingKeys: String, CodingKey {
        case server, version, `protocol`, instance, revision, principal, session, resumed
        case maxLine = "max_line"
    }
}

/// A request id as it comes back: a string or an integer.
public enum WireID: Codable, Hashable, Sendable {
    case number(Int64)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let n = try? container.decode(Int64.self) {
            self = .number(n)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

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
    public var code: String
    public var message: String
    public var details: [String: WireDetail]
}

/// A value inside `details`: a string, a number, or a nested object (the conflict's holder).
public enum WireDetail: Codable, Hashable, Sendable {
    case string(String)
    case number(Double)
    case object([String: WireDetail])
    case null

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
    public var id: WireID?
    public var ok: Bool
    public var revision: UInt64?
    public var result: Result?
    public var error: WireError?
}

/// `{route}`: the result of `add` and of `touch` on one key.
public struct WireRouteResult: Codable, Hashable, Sendable {
    public var route: WireRoute
}

/// The result of `lookup` by name or key.
public struct WireLookupResult: Codable, Hashable, Sendable {
    public var route: WireRoute
    public var match: String
    public var via: String
}

/// The final line of `list`.
public struct WireListResult: Codable, Hashable, Sendable {
    public var count: Int
    public var revision: UInt64
    public var next: String?
}

/// An item line of `list`.
public struct WireRouteItem: Codable, Hashable, Sendable {
    public var id: WireID?
    public var route: WireRoute
}

/// An event line of `watch`.
public struct WireEventLine: Codable, Hashable, Sendable {
    public struct Event: Codable, Hashable, Sendable {
        public var type: String
        public var revision: UInt64
        public var key: String?
        public var route: WireRoute?
    }

    public var id: WireID?
    public var event: Event
}

/// The result of `stats`.
public struct WireStats: Codable, Hashable, Sendable {
    public struct Routes: Codable, Hashable, Sendable {
        public var host: Int
        public var wildcard: Int
        public var tcp: Int
        public var total: Int
    }

    public var routes: Routes
    public var tunnels: Int
    public var revision: UInt64
    public var oldestRevision: UInt64
    public var connections: Int
    public var watchers: Int
    public var sessions: Int
    public var uptimeS: Int
    public var rssBytes: Int
    public var instance: String

    enum CodingKeys: String, CodingKey {
        case routes, tunnels, revision, connections, watchers, sessions, instance
        case oldestRevision = "oldest_revision"
        case uptimeS = "uptime_s"
        case rssBytes = "rss_bytes"
    }
}
