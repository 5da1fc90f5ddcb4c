#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Slot numbers kept in key order, for `list` pages (`after` + `limit`) over a million routes.
///
/// A list of sorted chunks (the layout of Python's `sortedcontainers`): finding a key is two
/// binary searches, inserting or removing moves at most one chunk's worth of entries. Each
/// entry carries the key's first twelve bytes beside the slot number (in the sixteen bytes the
/// entry takes anyway), so most comparisons never touch the key itself — a read of the slot's
/// memory, at random in a large table — even among names that share a prefix (`app-1`,
/// `app-2`, …, `app-10417`); about 20 bytes per route. Hand-written: swift-collections' sorted containers are not in a stable
/// release. Keys live in the table; callers pass `keyOf`.
struct SortedKeyList {
    typealias KeyOf = (UInt32) -> UnsafeBufferPointer<UInt8>

    /// A key's first twelve bytes (big-endian, zero-padded: ordered as the bytes are; a key
    /// never holds a zero byte, so a shorter key orders first as it should) and its slot.
    struct Entry {
        /// The key's bytes 0–7.
        var prefix: UInt64
        /// Its bytes 8–11.
        var more: UInt32
        var slot: UInt32
    }

    /// The twelve bytes an entry carries, as one comparable value.
    struct Prefix: Equatable {
        var high: UInt64
        var low: UInt32

        @inline(__always)
        static func < (a: Prefix, b: Prefix) -> Bool { a.high != b.high ? a.high < b.high : a.low < b.low }
    }

    static let chunkSize = 256

    private var chunks: [[Entry]] = []
    /// The first entry of each chunk, contiguous, for the outer search.
    private var firsts: [Entry] = []
    private(set) var count = 0

    @inline(__always)
    static func prefix(_ key: UnsafeBufferPointer<UInt8>) -> Prefix {
        if key.count >= 12, let start = key.baseAddress {
            let base = UnsafeRawPointer(start)
            return Prefix(high: UInt64(bigEndian: base.loadUnaligned(as: UInt64.self)),
                          low: UInt32(bigEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        }
        var high: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(i < key.count ? key[i] : 0) }
        var low: UInt32 = 0
        for i in 8..<12 { low = low << 8 | UInt32(i < key.count ? key[i] : 0) }
        return Prefix(high: high, low: low)
    }

    @inline(__always)
    static func entry(_ slot: UInt32, _ key: UnsafeBufferPointer<UInt8>) -> Entry {
        let p = prefix(key)
        return Entry(prefix: p.high, more: p.low, slot: slot)
    }

    @inline(__always)
    static func prefix(of entry: Entry) -> Prefix { Prefix(high: entry.prefix, low: entry.more) }

    @inline(__always)
    static func slot(_ entry: Entry) -> UInt32 { entry.slot }

    /// Byte-wise order of an entry's key against `key` (negative, zero, positive).
    @inline(__always)
    static func compare(_ entry: Entry, _ key: UnsafeBufferPointer<UInt8>, _ keyPrefix: Prefix, _ keyOf: KeyOf) -> Int {
        let p = prefix(of: entry)
        if p != keyPrefix { return p < keyPrefix ? -1 : 1 }
        return compareBytes(keyOf(entry.slot), key)
    }

    @inline(__always)
    static func compareBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let n = min(a.count, b.count)
        if n > 0 {
            let c = memcmp(a.baseAddress!, b.baseAddress!, n)
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }

    /// The first position whose key is not before `key` (or after it, when `strictlyAfter`).
    func position(of key: UnsafeBufferPointer<UInt8>, strictlyAfter: Bool, _ keyOf: KeyOf) -> (chunk: Int, index: Int) {
        if chunks.isEmpty { return (0, 0) }
        let keyPrefix = SortedKeyList.prefix(key)
        func before(_ entry: Entry) -> Bool {
            let c = SortedKeyList.compare(entry, key, keyPrefix, keyOf)
            return strictlyAfter ? c <= 0 : c < 0
        }
        var lo = 0
        var hi = firsts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if before(firsts[mid]) { lo = mid + 1 } else { hi = mid }
        }
        let c = max(0, lo - 1)
        let chunk = chunks[c]
        var l = 0
        var h = chunk.count
        while l < h {
            let mid = (l + h) / 2
            if before(chunk[mid]) { l = mid + 1 } else { h = mid }
        }
        if l == chunk.count && c + 1 < chunks.count { return (c + 1, 0) }
        return (c, l)
    }

    /// The list of `slots` (each key once), sorted here: one sort and one pass instead of a
    /// search and an insertion a slot, for a table loaded whole. Chunks are filled to
    /// `chunkSize`, leaving room to grow before they split.
    init(sorting slots: some Sequence<UInt32>, _ keyOf: KeyOf) {
        var entries = slots.map { SortedKeyList.entry($0, keyOf($0)) }
        entries.sort { a, b in
            let (pa, pb) = (SortedKeyList.prefix(of: a), SortedKeyList.prefix(of: b))
            if pa != pb { return pa < pb }
            return SortedKeyList.compareBytes(keyOf(a.slot), keyOf(b.slot)) < 0
        }
        count = entries.count
        chunks.reserveCapacity((entries.count + SortedKeyList.chunkSize - 1) / SortedKeyList.chunkSize)
        var start = 0
        while start < entries.count {
            let chunk = Array(entries[start..<min(start + SortedKeyList.chunkSize, entries.count)])
            firsts.append(chunk[0])
            chunks.append(chunk)
            start += SortedKeyList.chunkSize
        }
    }

    /// An empty list.
    init() {}

    mutating func insert(_ slot: UInt32, key: UnsafeBufferPointer<UInt8>, _ keyOf: KeyOf) {
        let entry = SortedKeyList.entry(slot, key)
        count += 1
        if chunks.isEmpty {
            chunks = [[entry]]
            firsts = [entry]
            return
        }
        var (c, i) = position(of: key, strictlyAfter: false, keyOf)
        if i == 0 && c > 0 {
            // Append to the previous chunk rather than become a new first entry.
            c -= 1
            i = chunks[c].count
        }
        chunks[c].insert(entry, at: i)
        if i == 0 { firsts[c] = entry }
        if chunks[c].count > 2 * SortedKeyList.chunkSize {
            let tail = Array(chunks[c][SortedKeyList.chunkSize...])
            chunks[c].removeSubrange(SortedKeyList.chunkSize...)
            chunks.insert(tail, at: c + 1)
            firsts.insert(tail[0], at: c + 1)
        }
    }

    mutating func remove(_ slot: UInt32, key: UnsafeBufferPointer<UInt8>, _ keyOf: KeyOf) {
        let (c, i) = position(of: key, strictlyAfter: false, keyOf)
        guard c < chunks.count, i < chunks[c].count, chunks[c][i].slot == slot else {
            assertionFailure("sorted index out of step with the table")
            return
        }
        count -= 1
        chunks[c].remove(at: i)
        if chunks[c].isEmpty {
            chunks.remove(at: c)
            firsts.remove(at: c)
        } else if i == 0 {
            firsts[c] = chunks[c][0]
        }
    }

    /// Calls `body` with slots in key order, from `key` (or after it), until it returns false.
    func forEach(from key: UnsafeBufferPointer<UInt8>?, strictlyAfter: Bool, _ keyOf: KeyOf,
                 _ body: (UInt32) -> Bool) {
        var (c, i) = key.map { position(of: $0, strictlyAfter: strictlyAfter, keyOf) } ?? (0, 0)
        while c < chunks.count {
            let chunk = chunks[c]
            while i < chunk.count {
                if !body(SortedKeyList.slot(chunk[i])) { return }
                i += 1
            }
            c += 1
            i = 0
        }
    }
}
