/// The protocol version this module speaks.
public let protocolVersion = 1

/// Stable snake_case error codes, the same in every reply (see docs/protocol.md).
public enum ErrorCode: String, Hashable, Sendable, CaseIterable {
    case badRequest = "bad_request"
    case unknownOp = "unknown_op"
    case invalidName = "invalid_name"
    case notFound = "not_found"
    case conflict
    case reserved
    case forbidden
    case outOfRange = "out_of_range"
    case compacted
    case tooLarge = "too_large"
    case slowConsumer = "slow_consumer"
    case unavailable
    case `internal`
}

/// A request's id: a JSON string or an integer up to 2^53, echoed verbatim in the replies.
public enum RequestID: Hashable, Sendable, CustomStringConvertible {
    case number(String)
    case string(String)

    public var json: JSONValue {
        switch self {
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        }
    }

    public var description: String { JSONWriter.encode(json) }

    /// Reads an id; nil when `value` is neither a string nor an integer within ±2^53.
    public init?(_ value: JSONValue) {
        switch value {
        case .string(let s):
            self = .string(s)
        case .number(let n):
            // An integer is written as digits (and a sign): no fraction, no exponent. Checked on
            // the bytes; Character-wise String searches cost a tenth of a lookup.
            let integral = n.utf8.allSatisfy { $0 != UInt8(ascii: ".") && $0 != UInt8(ascii: "e") && $0 != UInt8(ascii: "E") }
            guard integral, let i = Int64(n), abs(i) <= 9_007_199_254_740_992 else { return nil }
            self = .number(n)
        default:
            return nil
        }
    }
}

/// A refusal to send back: the code, a message for a person, optional details.
public struct ProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    public var details: JSONValue?

    public init(_ code: ErrorCode, _ message: String, details: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

// MARK: - Operations and their arguments

/// The JSON type an argument takes.
public enum ArgumentType: String, Sendable {
    case string, boolean, number, integer
    /// An object whose values are strings.
    case stringMap = "object"
    /// An array of objects (batch operations).
    case array
    /// A string or an integer (a request id).
    case id
}

public struct ArgumentSpec: Sendable {
    public var name: String
    public var type: ArgumentType
    public var required: Bool
    public var summary: String
}

public struct OperationSpec: Sendable {
    public var name: String
    public var summary: String
    public var arguments: [ArgumentSpec]
}

/// An argument of an operation's spec.
fileprivate func arg(_ name: String, _ type: ArgumentType, required: Bool = false, _ summary: String) -> ArgumentSpec {
    ArgumentSpec(name: name, type: type, required: required, summary: summary)
}

/// The operations of protocol v1: dispatch, validation, `describe`, help and completion all
/// read them from here.
public enum Operation: String, CaseIterable, Hashable, Sendable {
    case hello, ping, add, delete, lookup, list, watch, cancel, touch, batch, stats, describe

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
                arg("after", .string, "start after this key (the previous page's next)"),
                arg("limit", .integer, "at most this many routes"),
            ])
        case .watch:
            return OperationSpec(name: "watch", summary: "stream changes: replayed history, a sync marker, then live events", arguments: [
                arg("from_revision", .integer, "replay events from this revision (inclusive)"),
                arg("instance", .string, "the daemon instance from_revision belongs to"),
                arg("prefix", .string, "keys starting with this"),
                arg("tunnel", .string, "routes of this tunnel"),
            ])
        case .cancel:
            return OperationSpec(name: "cancel", summary: "end a watch", arguments: [
                arg("watch", .id, required: true, "the id of the watch request"),
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

/// A request's arguments by name: a handful at most, so a short list searched from the end
/// (the last of duplicate names wins, as in a JSON object) beats hashing into a dictionary.
public struct RequestArguments: Sendable, ExpressibleByDictionaryLiteral {
    public private(set) var members: [(String, JSONValue)]

    public init(_ members: [(String, JSONValue)] = []) {
        self.members = members
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        members = elements
    }

    public subscript(name: String) -> JSONValue? {
        get {
            for (n, value) in members.reversed() where n == name { return value }
            return nil
        }
        set {
            members.removeAll { $0.0 == name }
            if let newValue { members.append((name, newValue)) }
        }
    }

    mutating func append(_ name: String, _ value: JSONValue) {
        members.append((name, value))
    }
}

/// A parsed, validated request line.
public struct Request: Sendable {
    public var id: RequestID?
    public var op: String
    /// The arguments, each present only if given, of the type the spec says.
    public var arguments: RequestArguments

    public init(id: RequestID?, op: String, arguments: RequestArguments = [:]) {
        self.id = id
        self.op = op
        self.arguments = arguments
    }

    public func string(_ name: String) -> String? { arguments[name]?.stringValue }
    public func bool(_ name: String) -> Bool { arguments[name]?.boolValue ?? false }
    public func number(_ name: String) -> Double? { arguments[name]?.doubleValue }
    public func integer(_ name: String) -> Int64? { arguments[name]?.integerValue }

    /// Parses one line; on failure returns the error and whatever id could be read.
    public static func parse(_ line: UnsafeBufferPointer<UInt8>) -> Result<Request, RequestFailure> {
        if line.isEmpty || line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
            return .failure(RequestFailure(id: nil, error: ProtocolError(.badRequest, "empty line: send one JSON object per line")))
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            return .failure(RequestFailure(id: nil, error: ProtocolError(.badRequest, "malformed JSON: \(error)")))
        }
        return validate(value)
    }

    /// Checks a parsed request object against its operation's spec (a line, or one of a
    /// `batch`'s `ops`, which may only be the operations in `allowed`).
    public static func validate(_ value: JSONValue, allowed: Set<String>? = nil) -> Result<Request, RequestFailure> {
        guard case .object(let members) = value else {
            return .failure(RequestFailure(id: nil, error: ProtocolError(
                .badRequest, "a request is a JSON object such as {\"id\":1,\"op\":\"ping\"}, not \(value.typeName)")))
        }
        var id: RequestID?
        if let raw = value["id"], raw != .null {
            guard let parsed = RequestID(raw) else {
                return .failure(RequestFailure(id: nil, error: ProtocolError(
                    .badRequest, "id must be a string or an integer up to 2^53, not \(raw.typeName == "a number" ? "that number" : raw.typeName)")))
            }
            id = parsed
        }
        guard let opValue = value["op"] else {
            return .failure(RequestFailure(id: id, error: ProtocolError(.badRequest, "missing field 'op' (one of \(Operations.all.map(\.name).joined(separator: ", ")))")))
        }
        guard let op = opValue.stringValue else {
            return .failure(RequestFailure(id: id, error: ProtocolError(.badRequest, "field 'op' must be a string, not \(opValue.typeName)")))
        }
        if let allowed, !allowed.contains(op) {
            return .failure(RequestFailure(id: id, error: ProtocolError(
                .badRequest, "a batch may hold \(allowed.sorted().joined(separator: ", ")) operations, not '\(op.prefix(40))'")))
        }
        guard let spec = Operations.byName[op] else {
            return .failure(RequestFailure(id: id, error: ProtocolError(
                .unknownOp, "unknown op '\(op.prefix(40))'; known: \(Operations.all.map(\.name).joined(separator: ", "))",
                details: .object([("op", .string(String(op.prefix(100))))]))))
        }
        var arguments = RequestArguments()
        for (name, member) in members where name != "id" && name != "op" {
            guard let arg = spec.arguments.first(where: { $0.name == name }) else {
                var message = "unknown field '\(name.prefix(40))' for \(op)"
                if let close = closest(name, among: spec.arguments.map(\.name)) { message += "; did you mean '\(close)'?" }
                if !spec.arguments.isEmpty { message += " (fields: \(spec.arguments.map(\.name).joined(separator: ", ")))" }
                return .failure(RequestFailure(id: id, error: ProtocolError(.badRequest, message, details: .object([("field", .string(String(name.prefix(100))))]))))
            }
            if let problem = typeProblem(member, arg) {
                return .failure(RequestFailure(id: id, error: ProtocolError(.badRequest, "field '\(name)' must be \(problem), not \(member.typeName)", details: .object([("field", .string(name))]))))
            }
            arguments.append(name, member)
        }
        for arg in spec.arguments where arg.required && arguments[arg.name] == nil {
            return .failure(RequestFailure(id: id, error: ProtocolError(.badRequest, "missing field '\(arg.name)' for \(op): \(arg.summary)", details: .object([("field", .string(arg.name))]))))
        }
        return .success(Request(id: id, op: op, arguments: arguments))
    }

    static func typeProblem(_ value: JSONValue, _ arg: ArgumentSpec) -> String? {
        switch (arg.type, value) {
        case (.string, .string), (.boolean, .bool), (.number, .number), (.array, .array):
            return nil
        case (.integer, .number):
            return value.integerValue == nil ? "an integer" : nil
        case (.id, _):
            return RequestID(value) == nil ? "a string or an integer" : nil
        case (.stringMap, .object(let members)):
            return members.allSatisfy({ $0.1.stringValue != nil }) ? nil : "an object of strings"
        case (.string, _): return "a string"
        case (.boolean, _): return "a boolean"
        case (.number, _): return "a number"
        case (.integer, _): return "an integer"
        case (.stringMap, _): return "an object of strings"
        case (.array, _): return "an array"
        }
    }

    /// The known name within edit distance 2 of `name`, for "did you mean" hints.
    static func closest(_ name: String, among names: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var previous = Array(0...b.count)
            for (i, x) in a.enumerated() {
                var current = [i + 1] + Array(repeating: 0, count: b.count)
                for (j, y) in b.enumerated() {
                    current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
                }
                previous = current
            }
            return previous[b.count]
        }
        guard name.count <= 40 else { return nil }
        let a = Array(name)
        return names.map { ($0, distance(a, Array($0))) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }?.0
    }
}

/// A request that could not be parsed: the error and the id, when it could be read.
public struct RequestFailure: Error, Sendable {
    public var id: RequestID?
    public var error: ProtocolError
}

// MARK: - Reply lines

/// Builders for the lines the daemon sends, each ending in `\n`.
public enum Reply {
    static func idValue(_ id: RequestID?) -> JSONValue { id?.json ?? .null }

    public static func success(_ id: RequestID?, revision: UInt64, result: JSONValue) -> [UInt8] {
        line(.object([("id", idValue(id)), ("ok", .bool(true)), ("revision", .number(revision)), ("result", result)]))
    }

    /// The most bytes `writeSuccessHead(_:revision:to:)` writes for `id`.
    public static func maximumSuccessHeadLength(_ id: RequestID?) -> Int {
        if case .string(let s)? = id { return 60 + JSONOutput.maximumLength(ofString: s) }
        return 96
    }

    /// Writes `{"id":ID,"ok":true,"revision":N,"result":` into reserved memory — the caller
    /// writes the result and then `}` and the newline. For hot replies, without building a tree.
    public static func writeSuccessHead(_ id: RequestID?, revision: UInt64, to out: inout JSONOutput) {
        out.literal("{\"id\":")
        switch id {
        case .number(let n)?:
            var n = n // validated: an integer of at most 17 characters
            n.withUTF8 { out.bytes($0) }
        case .string(let s)?: out.string(s)
        case nil: out.literal("null")
        }
        out.literal(",\"ok\":true,\"revision\":")
        out.number(revision)
        out.literal(",\"result\":")
    }

    public static func failure(_ id: RequestID?, _ error: ProtocolError) -> [UInt8] {
        line(.object([
            ("id", idValue(id)), ("ok", .bool(false)),
            ("error", .object([("code", .string(error.code.rawValue)), ("message", .string(error.message)),
                               ("details", error.details ?? .object([]))])),
        ]))
    }

    public static func item(_ id: RequestID?, route: JSONValue) -> [UInt8] {
        line(.object([("id", idValue(id)), ("route", route)]))
    }

    public static func event(_ id: RequestID?, event: JSONValue) -> [UInt8] {
        line(.object([("id", idValue(id)), ("event", event)]))
    }

    public static func line(_ value: JSONValue) -> [UInt8] {
        var writer = JSONWriter()
        writer.write(value)
        return writer.bytes + [UInt8(ascii: "\n")]
    }
}
