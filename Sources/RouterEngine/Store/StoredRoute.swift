#if canImport(Glibc)
import Glibc
#endif
import DomainRouter
import RouterProtocol

/// Routes as the stores keep them (Redis's hash and log, SQLite's tables): one JSON object with
/// every field (times in milliseconds, revisions, the session). Unlike the wire's route object,
/// nothing is left out or rounded, so a table built from it equals the table that made it.
package enum StoredRoute {
    package static func encode(_ route: Route) -> String {
        var out = JSONWriter(capacity: 320)
        write(route, to: &out)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    /// Appends the stored form of `route` to `out`: for a writer that binds it without making
    /// a String of it.
    package static func write(_ route: Route, to out: inout JSONWriter) {
        // Written field by field (no JSONValue tree): every committed change encodes its route.
        func number(_ value: Int64) { out.append(UInt64(max(0, value))) }
        out.append(#"{"key":"#)
        out.write(string: route.key)
        out.append(#","kind":""#)
        out.append(route.kind.rawValue)
        out.append(#"","tunnel":""#)
        // A tunnel id needs no escapes ([A-Za-z0-9._-]); a UUID is written from its bits.
        out.appendReserved(TunnelID.maximumLength) { raw in
            route.tunnel.writeText(to: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        out.append(byte: UInt8(ascii: "\""))
        out.append(#","owner":"#)
        out.write(string: route.owner)
        out.append(#","created":"#)
        number(route.createdAt.millisecondsSinceEpoch)
        out.append(#","updated":"#)
        number(route.updatedAt.millisecondsSinceEpoch)
        out.append(#","create_rev":"#)
        out.append(route.createRevision)
        out.append(#","mod_rev":"#)
        out.append(route.modRevision)
        if let target = route.target {
            out.append(#","target":"#)
            out.write(string: target.description)
        }
        if !route.labels.isEmpty {
            out.append(#","labels":"#)
            out.write(.object(route.labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        }
        // Access rules are rare: the fast reader below leaves a route with them to the parser.
        if !route.access.allow.isEmpty {
            out.append(#","allow":"#)
            out.write(.array(route.access.allow.map { .string($0.description) }))
        }
        if !route.access.deny.isEmpty {
            out.append(#","deny":"#)
            out.write(.array(route.access.deny.map { .string($0.description) }))
        }
        if let session = route.session {
            out.append(#","session":"#)
            out.append(session)
        }
        if let expires = route.expiresAt {
            out.append(#","expires":"#)
            number(expires.millisecondsSinceEpoch)
        }
        if let ttl = route.ttl {
            out.append(#","ttl_ms":"#)
            number(ttl.milliseconds)
        }
        out.append(byte: UInt8(ascii: "}"))
    }

    /// The route a stored object describes; nil (with the reason) when it is not one.
    package static func decode(_ text: String) throws(StoreFormatError) -> Route {
        // Every replica decodes every change: read what `encode` writes straight from the
        // bytes, and take the general parser only for anything else (labels, escapes).
        if let route = decodeAsWritten(text) { return route }
        let value: JSONValue
        do {
            value = try JSONParser.parse(text)
        } catch {
            throw StoreFormatError("a stored route is not JSON (\(error)): \(text.prefix(120))")
        }
        func string(_ name: String) throws(StoreFormatError) -> String {
            guard let s = value[name]?.stringValue else { throw StoreFormatError("a stored route has no \(name): \(text.prefix(120))") }
            return s
        }
        func number(_ name: String) throws(StoreFormatError) -> Int64 {
            guard let n = value[name]?.integerValue else { throw StoreFormatError("a stored route has no \(name): \(text.prefix(120))") }
            return n
        }
        func optional(_ name: String) throws(StoreFormatError) -> Int64? {
            guard value[name] != nil else { return nil }
            return try number(name)
        }
        do {
            guard let kind = RouteKind(rawValue: try string("kind")) else {
                throw StoreFormatError("a stored route has an unknown kind: \(text.prefix(120))")
            }
            var labels: [String: String] = [:]
            if case .object(let members)? = value["labels"] {
                for (name, v) in members { labels[name] = v.stringValue ?? "" }
            }
            func blocks(_ name: String) -> [String] {
                guard case .array(let items)? = value[name] else { return [] }
                return items.compactMap(\.stringValue)
            }
            return Route(
                key: try string("key"), kind: kind, tunnel: try TunnelID(try string("tunnel")),
                target: try value["target"]?.stringValue.map { (t: String) throws(RouteError) in try RouteTarget(parsing: t) },
                labels: labels, access: try AccessRules(allow: blocks("allow"), deny: blocks("deny")), owner: try string("owner"),
                session: try optional("session").map { UInt64($0) },
                createdAt: Timestamp(millisecondsSinceEpoch: try number("created")),
                updatedAt: Timestamp(millisecondsSinceEpoch: try number("updated")),
                expiresAt: try optional("expires").map { Timestamp(millisecondsSinceEpoch: $0) },
                ttl: try optional("ttl_ms").map { Duration.milliseconds($0) },
                createRevision: UInt64(try number("create_rev")), modRevision: UInt64(try number("mod_rev")))
        } catch let error as StoreFormatError {
            throw error
        } catch {
            throw StoreFormatError("a stored route does not parse (\(error)): \(text.prefix(120))")
        }
    }

    /// `encode`'s output read in its own field order, or nil for anything that is not
    /// exactly that (a string with an escape, labels, another order), which `decode` then
    /// parses as JSON.
    package static func decodeAsWritten(_ text: String) -> Route? {
        var text = text
        return text.withUTF8 { decodeAsWritten(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// The route stored as `bytes` (UTF-8): read as `decodeAsWritten(_:)` reads, or else
    /// parsed as JSON; for a reader holding the bytes (a Redis reply), without a String of them.
    package static func decode(bytes: UnsafeRawBufferPointer) throws(StoreFormatError) -> Route {
        if let route = decodeAsWritten(bytes: bytes) { return route }
        return try decode(String(decoding: bytes, as: UTF8.self))
    }

    /// `decodeAsWritten(_:)` on the bytes of the text.
    package static func decodeAsWritten(bytes: UnsafeRawBufferPointer) -> Route? {
        let b = bytes.assumingMemoryBound(to: UInt8.self)
        var i = 0
        func literal(_ expected: StaticString) -> Bool {
            let n = expected.utf8CodeUnitCount
            guard i + n <= b.count, memcmp(b.baseAddress! + i, expected.utf8Start, n) == 0 else { return false }
            i += n
            return true
        }
        /// The bytes of a string without escapes (nil for one with escapes: the parser's).
        func stringBytes() -> UnsafeBufferPointer<UInt8>? {
            guard i < b.count, b[i] == 0x22 else { return nil }
            var j = i + 1
            while j < b.count, b[j] != 0x22 {
                if b[j] == 0x5C { return nil }
                j += 1
            }
            guard j < b.count else { return nil }
            defer { i = j + 1 }
            return UnsafeBufferPointer(rebasing: b[(i + 1)..<j])
        }
        func string() -> String? {
            stringBytes().map { String(decoding: $0, as: UTF8.self) }
        }
        func number() -> Int64? {
            var n: Int64 = 0
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39, i - start < 18 {
                n = n * 10 + Int64(b[i] - 0x30)
                i += 1
            }
            return i > start ? n : nil
        }
        guard literal(#"{"key":"#), let key = string(), literal(#","kind":"#), let kindText = string(),
              let kind = RouteKind(rawValue: kindText), literal(#","tunnel":"#), let tunnelText = stringBytes(),
              let tunnel = try? TunnelID(utf8: tunnelText), literal(#","owner":"#), let owner = string(),
              literal(#","created":"#), let created = number(), literal(#","updated":"#), let updated = number(),
              literal(#","create_rev":"#), let createRevision = number(), literal(#","mod_rev":"#),
              let modRevision = number() else { return nil }
        var target: RouteTarget?
        if literal(#","target":"#) {
            guard let text = string(), let parsed = try? RouteTarget(parsing: text) else { return nil }
            target = parsed
        }
        var session: UInt64?
        if literal(#","session":"#) {
            guard let n = number() else { return nil }
            session = UInt64(n)
        }
        var expires: Int64?
        if literal(#","expires":"#) {
            guard let n = number() else { return nil }
            expires = n
        }
        var ttl: Int64?
        if literal(#","ttl_ms":"#) {
            guard let n = number() else { return nil }
            ttl = n
        }
        guard literal("}"), i == b.count else { return nil }
        return Route(key: key, kind: kind, tunnel: tunnel, target: target, owner: owner, session: session,
                     createdAt: Timestamp(millisecondsSinceEpoch: created), updatedAt: Timestamp(millisecondsSinceEpoch: updated),
                     expiresAt: expires.map { Timestamp(millisecondsSinceEpoch: $0) }, ttl: ttl.map { .milliseconds($0) },
                     createRevision: UInt64(createRevision), modRevision: UInt64(modRevision))
    }
}

/// Something in a store is not what a routerd writes there.
package struct StoreFormatError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}


extension Duration {
    /// Whole milliseconds (truncated), as stores keep durations.
    package var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
