/// The JSON type an argument takes.
public enum ArgumentType: String, Sendable {
    case string, boolean, number, integer
    /// An object whose values are strings.
    case stringMap = "object"
    /// An array of objects (batch operations).
    case array
    /// An array of strings (address blocks).
    case stringList = "string_array"
    /// A string or an integer (a request id).
    case id
    /// A string, or null to clear the field.
    case optionalString = "string_or_null"
}

/// An argument of an operation.
public struct ArgumentSpec: Sendable {
    /// The name, as sent.
    public var name: String
    /// The JSON type it takes.
    public var type: ArgumentType
    /// Whether the operation needs it.
    public var required: Bool
    /// A line of help.
    public var summary: String
}

/// An operation: its name, a line of help and its arguments.
public struct OperationSpec: Sendable {
    /// The name, as sent.
    public var name: String
    /// A line of help.
    public var summary: String
    /// Its arguments.
    public var arguments: [ArgumentSpec]
}

/// An argument of an operation's spec.
fileprivate func arg(_ name: String, _ type: ArgumentType, required: Bool = false, _ summary: String) -> ArgumentSpec {
    ArgumentSpec(name: name, type: type, required: required, summary: summary)
}

/// The operations of protocol v1: dispatch, validation, `describe`, help and completion all
/// read them from here.
public enum Operation: String, CaseIterable, Hashable, Sendable {
    case hello, ping, add, update, delete, lookup, list, watch, cancel, touch, batch, stats, history, holds, dns, describe

    /// The operation's arguments (their types, which are required) and help text.
    public var spec: OperationSpec {
        switch self {
        case .hello:
            return OperationSpec(name: "hello", summary: "check the protocol version, or resume a session after reconnecting", arguments: [
                arg("protocol", .integer, "the protocol version the client speaks (1)"),
                arg("resume", .string, "a resume token from an earlier greeting, within the grace period"),
            ])
        case .ping:
            return OperationSpec(name: "ping", summary: "check that the daemon answers", arguments: [])
        case .add:
            return OperationSpec(name: "add", summary: "add a route, refresh your own, or replace one", arguments: [
                arg("key", .string, "foo.example.com, *.foo.example.com, a bare label, tcp:N or tcp:auto"),
                arg("random", .boolean, "pick a random free subdomain instead of a key"),
                arg("domain", .string, "with random: the base domain to pick under"),
                arg("tunnel", .string, "the tunnel id (default: a fresh UUID)"),
                arg("target", .string, "where the gateway forwards: host:port, [v6]:port or unix:/path"),
                arg("ttl", .number, "seconds until the route lapses (renewed by touch)"),
                arg("session", .boolean, "bind the route to this connection: it goes the grace period after it closes"),
                arg("replace", .boolean, "take the key over from another tunnel"),
                arg("labels", .stringMap, "string labels"),
                arg("allow", .stringList, "client address blocks a gateway lets through (CIDR; none: everyone)"),
                arg("deny", .stringList, "client address blocks a gateway refuses, even if allowed (CIDR)"),
                arg("owner", .string, "admins only: the owner to record"),
            ])
        case .delete:
            return OperationSpec(name: "delete", summary: "delete a route, or every route of a tunnel (uuid:ID)", arguments: [
                arg("key", .string, required: true, "a host, wildcard, tcp:N or uuid:ID key"),
            ])
        case .lookup:
            return OperationSpec(name: "lookup", summary: "find the route for a key, a raw Host header value or an SNI name", arguments: [
                arg("key", .string, "a key: host, *.wildcard, tcp:N or uuid:ID"),
                arg("host", .string, "a raw HTTP Host header value"),
                arg("sni", .string, "a raw TLS SNI name"),
            ])
        case .list:
            return OperationSpec(name: "list", summary: "stream routes in key order, a page at a time", arguments: [
                arg("prefix", .string, "keys starting with this"),
                arg("tunnel", .string, "routes of this tunnel"),
                arg("owner", .string, "routes of this owner (admins)"),
                arg("kind", .string, "host, wildcard or tcp"),
                arg("label", .string, "k=v: routes with this label"),
                arg("namespace", .string, "routes in this namespace (of routerd's configuration file)"),
                arg("after", .string, "start after this key (the previous page's next)"),
                arg("limit", .integer, "at most this many routes"),
            ])
        case .watch:
            return OperationSpec(name: "watch", summary: "stream changes: replayed history, a sync marker, then live events", arguments: [
                arg("from_revision", .integer, "replay events from this revision (inclusive)"),
                arg("instance", .string, "the daemon instance from_revision belongs to"),
                arg("prefix", .string, "keys starting with this"),
                arg("tunnel", .string, "routes of this tunnel"),
                arg("namespace", .string, "changes in this namespace (of routerd's configuration file)"),
            ])
        case .cancel:
            return OperationSpec(name: "cancel", summary: "end a watch", arguments: [
                arg("watch", .id, required: true, "the id of the watch request"),
            ])
        case .update:
            return OperationSpec(name: "update", summary: "change a route's target, labels or access rules in place (same tunnel, same expiry)", arguments: [
                arg("key", .string, required: true, "the route's key"),
                arg("target", .optionalString, "host:port, [v6]:port or unix:/path; null takes the target away"),
                arg("labels", .stringMap, "every label the route is to have (the old ones go)"),
                arg("allow", .stringList, "the address blocks that may connect (replaces the old list)"),
                arg("deny", .stringList, "the address blocks refused (replaces the old list)"),
            ])
        case .touch:
            return OperationSpec(name: "touch", summary: "renew a route's (or a tunnel's routes') expiry", arguments: [
                arg("key", .string, required: true, "a route key or uuid:ID"),
                arg("ttl", .number, "seconds (default: each route's own TTL)"),
            ])
        case .batch:
            return OperationSpec(name: "batch", summary: "apply many add, delete and touch operations in one request", arguments: [
                arg("ops", .array, required: true, "the operations: request objects without ids, e.g. {\"op\":\"add\",\"key\":\"foo\"}"),
                arg("atomic", .boolean, "apply all or none; the first failure is reported with its index"),
            ])
        case .stats:
            return OperationSpec(name: "stats", summary: "counts, revision, connections, watchers, uptime and memory", arguments: [])
        case .history:
            return OperationSpec(name: "history", summary: "recorded changes, newest first (routerd --db)", arguments: [
                arg("key", .string, "changes to this key"),
                arg("owner", .string, "changes to this owner's routes (admins; others see their own only)"),
                arg("tunnel", .string, "changes to this tunnel's routes"),
                arg("since", .string, "changes at or after this time (RFC 3339, e.g. 2026-12-01T10:00:00Z), or this long ago (1h, 2d)"),
                arg("before", .integer, "changes below this revision (the previous page's next)"),
                arg("limit", .integer, "at most this many changes (default 100, at most 1000)"),
            ])
        case .holds:
            return OperationSpec(name: "holds", summary: "names held for their last owners (routerd --db --hold-released)", arguments: [
                arg("prefix", .string, "names starting with this"),
                arg("owner", .string, "names held for this owner (admins; others see their own only)"),
            ])
        case .dns:
            return OperationSpec(name: "dns", summary: "what routerd's DNS answers for a name, and why (routerd --dns)", arguments: [
                arg("name", .string, required: true, "the name asked, such as app.example.com"),
                arg("type", .string, "the record type asked (default A): AAAA, TXT, SOA, NS, ANY, TYPEnn…"),
            ])
        case .describe:
            return OperationSpec(name: "describe", summary: "the operations and their arguments", arguments: [])
        }
    }
}

/// Every operation of protocol v1 with its arguments: the source for request validation,
/// for `describe`, and for help and completion in clients.
public enum Operations {
    /// Every operation's spec, in protocol order.
    public static let all: [OperationSpec] = Operation.allCases.map(\.spec)

    /// The specs by operation name.
    public static let byName: [String: OperationSpec] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// `describe`'s result.
    public static var description: JSONValue {
        .object([("ops", .array(all.map { op in
            .object([
                ("name", .string(op.name)),
                ("summary", .string(op.summary)),
                ("args", .array(op.arguments.map { a in
                    .object([
                        ("name", .string(a.name)), ("type", .string(a.type.rawValue)),
                        ("required", .bool(a.required)), ("summary", .string(a.summary)),
                    ])
                })),
            ])
        }))])
    }
}
