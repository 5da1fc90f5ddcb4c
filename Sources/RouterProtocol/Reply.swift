/// Builders for the lines the daemon sends, each ending in `\n`.
package enum Reply {
    static func idValue(_ id: RequestID?) -> JSONValue { id?.json ?? .null }

    package static func success(_ id: RequestID?, revision: UInt64, result: JSONValue) -> [UInt8] {
        line(.object([("id", idValue(id)), ("ok", .bool(true)), ("revision", .number(revision)), ("result", result)]))
    }

    /// The most bytes `writeSuccessHead(_:revision:to:)` writes for `id`.
    package static func maximumSuccessHeadLength(_ id: RequestID?) -> Int {
        if case .string(let s)? = id { return 60 + JSONOutput.maximumLength(ofString: s) }
        return 96
    }

    /// Writes `{"id":ID,"ok":true,"revision":N,"result":` into reserved memory — the caller
    /// writes the result and then `}` and the newline. For hot replies, without building a tree.
    package static func writeSuccessHead(_ id: RequestID?, revision: UInt64, to out: inout JSONOutput) {
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

    package static func failure(_ id: RequestID?, _ error: ProtocolError) -> [UInt8] {
        line(.object([
            ("id", idValue(id)), ("ok", .bool(false)),
            ("error", error.object),
        ]))
    }

    package static func item(_ id: RequestID?, route: JSONValue) -> [UInt8] {
        line(.object([("id", idValue(id)), ("route", route)]))
    }

    package static func event(_ id: RequestID?, event: JSONValue) -> [UInt8] {
        line(.object([("id", idValue(id)), ("event", event)]))
    }

    package static func line(_ value: JSONValue) -> [UInt8] {
        var writer = JSONWriter()
        writer.write(value)
        return writer.bytes + [UInt8(ascii: "\n")]
    }
}
