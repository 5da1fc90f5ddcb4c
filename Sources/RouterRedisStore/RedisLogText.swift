#if canImport(Glibc)
import Glibc
#endif
import DomainRouter
import RouterEngine
import RouterProtocol

/// The text of one log entry, the entry's one field (`c`): a line a change, `kind route\n`,
/// the route as `StoredRoute` writes it (JSON, which escapes every control character, so a line
/// break only ever ends a line). A commit's changes go in entries of up to `entryChanges`, each
/// entry's stream id the revision of its last change.
///
/// One field an entry rather than a kind and a route a change keeps Redis from building a
/// stream entry of hundreds of fields, and a follower from parsing hundreds of replies an entry.
struct RedisLogText: Sendable, Equatable {
    /// The name of the entry's one field.
    static let field = "c"
    /// The most changes one entry holds.
    static let entryChanges = 256

    /// The entry's text.
    var bytes: [UInt8]
    /// Where each change's stored route sits in `bytes`, in order.
    var records: [Range<Int>]

    /// The entries that log `events` (a commit's, in order): one for each `entryChanges` of them.
    static func entries(of events: [RouteEvent]) -> [RedisLogText] {
        stride(from: 0, to: events.count, by: entryChanges).map { start in
            let part = events[start..<min(start + entryChanges, events.count)]
            var out = JSONWriter(capacity: 280 * part.count)
            var records: [Range<Int>] = []
            records.reserveCapacity(part.count)
            // By index: each event is read where it is, not copied out with all its strings.
            for i in part.indices {
                out.append(events[i].kind.rawValue)
                out.append(byte: UInt8(ascii: " "))
                let start = out.bytes.count
                StoredRoute.write(events[i].route!, to: &out)
                records.append(start..<out.bytes.count)
                out.append(byte: UInt8(ascii: "\n"))
            }
            return RedisLogText(bytes: out.bytes, records: records)
        }
    }

    /// Appends to `events` the events of an entry's `text`, its last change at revision `last`
    /// (the entry's id), leaving out those at or before `after`. `id` names the entry in errors.
    /// (Appended in place: a follower reads every change, and an array of them handed back and
    /// appended would copy each event again.)
    static func events(in text: UnsafeRawBufferPointer, last: UInt64, after: UInt64, id: String,
                       into events: inout [RouteEvent]) throws(StoreFormatError) {
        let b = text.assumingMemoryBound(to: UInt8.self)
        // The lines first (kind and route), then their revisions, which count back from `last`.
        var lines: [(kind: RouteEvent.Kind, route: Range<Int>)] = []
        var i = 0
        while i < b.count {
            guard let space = Self.index(of: UInt8(ascii: " "), in: b, from: i),
                  let end = Self.index(of: UInt8(ascii: "\n"), in: b, from: space + 1),
                  let kind = Self.kind(UnsafeBufferPointer(rebasing: b[i..<space])) else {
                throw StoreFormatError("log entry \(id) holds a line that is not a kind and a route")
            }
            lines.append((kind, (space + 1)..<end))
            i = end + 1
        }
        guard !lines.isEmpty, UInt64(lines.count) <= last else {
            throw StoreFormatError("log entry \(id) holds \(lines.count) changes, which cannot end at revision \(last)")
        }
        let first = last - UInt64(lines.count) + 1
        let skip = after >= first ? Int(min(after - first + 1, UInt64(lines.count))) : 0
        events.reserveCapacity(events.count + lines.count - skip)
        for (n, line) in lines.enumerated().dropFirst(skip) {
            let route = try StoredRoute.decode(bytes: UnsafeRawBufferPointer(rebasing: text[line.route]))
            events.append(RouteEvent(kind: line.kind, revision: first + UInt64(n), key: route.key, route: route))
        }
    }

    private static func index(of byte: UInt8, in b: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < b.count, let found = memchr(b.baseAddress! + start, Int32(byte), b.count - start) else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(b.baseAddress!)
    }

    /// The kind a change of the log names (a line's first word, or an earlier routerd's kind
    /// field): only the four that change the table are logged.
    static func kind(_ word: UnsafeBufferPointer<UInt8>) -> RouteEvent.Kind? {
        switch word.count {
        case 3 where word.elementsEqual("add".utf8): .add
        case 6 where word.elementsEqual("update".utf8): .update
        case 6 where word.elementsEqual("delete".utf8): .delete
        case 6 where word.elementsEqual("expire".utf8): .expire
        default: nil
        }
    }
}
