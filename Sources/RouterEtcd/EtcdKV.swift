#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import RouterProtocol

/// A key-value pair as etcd's range and watch answers carry it (keys and values are bytes,
/// base64 on the JSON gateway; revisions are 64-bit numbers written as strings).
public struct EtcdKV: Sendable {
    public var key: String
    public var value: String
    /// The cluster revision of the key's creation and of its last change.
    public var createRevision: Int64
    public var modRevision: Int64
    /// Changes since creation (1 when created).
    public var version: Int64
    /// The lease the key is bound to (0: none).
    public var lease: Int64

    /// The pair a range or watch answer's `kv` object describes.
    public init(_ json: JSONValue) throws(EtcdError) {
        guard let key = json["key"]?.stringValue.flatMap(EtcdJSON.text) else { throw .malformed("a key-value without a key") }
        self.key = key
        value = json["value"]?.stringValue.flatMap(EtcdJSON.text) ?? ""
        createRevision = EtcdJSON.int(json["create_revision"])
        modRevision = EtcdJSON.int(json["mod_revision"])
        version = EtcdJSON.int(json["version"])
        lease = EtcdJSON.int(json["lease"])
    }
}

/// The JSON gateway's encodings: base64 bytes, 64-bit integers as strings, and the request
/// objects of the KV, watch and lease calls.
public enum EtcdJSON {
    /// `text`'s UTF-8 bytes in base64.
    public static func bytes(_ text: String) -> JSONValue { .string(Data(text.utf8).base64EncodedString()) }

    /// The text whose UTF-8 bytes `base64` holds.
    public static func text(_ base64: String) -> String? {
        guard let data = Data(base64Encoded: base64) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// A 64-bit number as the gateway writes it (a string, or a number); 0 when absent.
    public static func int(_ value: JSONValue?) -> Int64 {
        switch value {
        case .string(let s): Int64(s) ?? 0
        case .number(let n): Int64(n) ?? 0
        default: 0
        }
    }

    /// The end of the range of every key starting with `prefix` (its last byte plus one).
    public static func prefixEnd(_ prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return String(decoding: bytes, as: UTF8.self)
            }
            bytes.removeLast()
        }
        return "\0"
    }

    // MARK: Requests

    /// A range request: one key, or `[key, end)`; at `revision` (0: now), at most `limit`.
    public static func range(_ key: String, end: String? = nil, revision: Int64 = 0, limit: Int = 0,
                             keysOnly: Bool = false, countOnly: Bool = false) -> JSONValue {
        var fields: [(String, JSONValue)] = [("key", bytes(key))]
        if let end { fields.append(("range_end", bytes(end))) }
        if revision > 0 { fields.append(("revision", .string(String(revision)))) }
        if limit > 0 { fields.append(("limit", .string(String(limit)))) }
        if keysOnly { fields.append(("keys_only", .bool(true))) }
        if countOnly { fields.append(("count_only", .bool(true))) }
        return .object(fields)
    }

    /// A put, bound to `lease` when not 0.
    public static func put(_ key: String, _ value: String, lease: Int64 = 0) -> JSONValue {
        var fields: [(String, JSONValue)] = [("key", bytes(key)), ("value", bytes(value))]
        if lease != 0 { fields.append(("lease", .string(String(lease)))) }
        return .object(fields)
    }

    /// A delete of one key, or of `[key, end)`.
    public static func delete(_ key: String, end: String? = nil) -> JSONValue {
        var fields: [(String, JSONValue)] = [("key", bytes(key))]
        if let end { fields.append(("range_end", bytes(end))) }
        return .object(fields)
    }

    /// A transaction's compare: the key's value is `value`.
    public static func valueIs(_ key: String, _ value: String) -> JSONValue {
        .object([("key", bytes(key)), ("target", .string("VALUE")), ("result", .string("EQUAL")), ("value", bytes(value))])
    }

    /// A transaction's compare: the key's version (0: absent).
    public static func versionIs(_ key: String, _ version: Int64) -> JSONValue {
        .object([("key", bytes(key)), ("target", .string("VERSION")), ("result", .string("EQUAL")), ("version", .string(String(version)))])
    }

    /// A transaction's compare: the key was last changed at `revision`.
    public static func modifiedAt(_ key: String, _ revision: Int64) -> JSONValue {
        .object([("key", bytes(key)), ("target", .string("MOD")), ("result", .string("EQUAL")), ("mod_revision", .string(String(revision)))])
    }

    /// One operation of a transaction's branch.
    public enum Operation: Sendable {
        case range(JSONValue)
        case put(JSONValue)
        case delete(JSONValue)

        var json: JSONValue {
            switch self {
            case .range(let r): .object([("request_range", r)])
            case .put(let p): .object([("request_put", p)])
            case .delete(let d): .object([("request_delete_range", d)])
            }
        }
    }

    /// A transaction: if every compare holds, `success`, else `failure`.
    public static func txn(compare: [JSONValue], success: [Operation], failure: [Operation] = []) -> JSONValue {
        .object([
            ("compare", .array(compare)),
            ("success", .array(success.map(\.json))),
            ("failure", .array(failure.map(\.json))),
        ])
    }
}

/// A range's answer: the pairs, whether more matched than the limit, and the cluster revision
/// it was read at.
public struct EtcdRange: Sendable {
    public var kvs: [EtcdKV]
    public var more: Bool
    public var revision: Int64

    public init(_ json: JSONValue, revision: Int64? = nil) throws(EtcdError) {
        var kvs: [EtcdKV] = []
        if case .array(let items)? = json["kvs"] {
            kvs.reserveCapacity(items.count)
            for item in items { kvs.append(try EtcdKV(item)) }
        }
        self.kvs = kvs
        more = json["more"]?.boolValue ?? false
        self.revision = revision ?? EtcdJSON.int(json["header"]?["revision"])
    }
}

/// A transaction's answer: which branch ran, its answers in order, and the cluster revision
/// after it.
public struct EtcdTxnResult: Sendable {
    public var succeeded: Bool
    public var revision: Int64
    /// The range answers of the branch that ran, in order (other operations give none here).
    public var ranges: [EtcdRange]

    public init(_ json: JSONValue) throws(EtcdError) {
        succeeded = json["succeeded"]?.boolValue ?? false
        revision = EtcdJSON.int(json["header"]?["revision"])
        var ranges: [EtcdRange] = []
        if case .array(let items)? = json["responses"] {
            for item in items {
                if let range = item["response_range"] { ranges.append(try EtcdRange(range, revision: revision)) }
            }
        }
        self.ranges = ranges
    }
}
