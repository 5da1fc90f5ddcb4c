/// Slot numbers kept in key order, for `list` pages (`after` + `limit`) over a million routes.
///
/// A list of sorted chunks (the layout of Python's `sortedcontainers`): finding a key is two
/// binary searches, inserting or removing moves at most one chunk's worth of 4-byte entries.
/// About 5 bytes per route. Hand-written: swift-collections' sorted containers are not in a
/// stable release. Keys live in the table's slots; callers pass a `key(of:)` accessor.
struct SortedKeyList: Sendable {
    static let chunkSize = 512

    private(set) var chunks: [[UInt32]] = []
    /// The first key of each chunk, so the outer search touches no slot.
    private var firstKeys: [String] = []
    private(set) var count = 0

    /// The position of the first entry whose key is not less than `key` (or greater, when
    /// `strictlyAfter`).
    func position(of key: String, strictlyAfter: Bool, key keyOf: (UInt32) -> String) -> (chunk: Int, index: Int) {
        if chunks.isEmpty { return (0, 0) }
        // Last chunk whose first key is before the target.
        var lo = 0
        var hi = chunks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let before = strictlyAfter ? firstKeys[mid] <= key : firstKeys[mid] < key
            if before { lo = mid + 1 } else { hi = mid }
        }
        let c = max(0, lo - 1)
        let chunk = chunks[c]
        var l = 0
        var h = chunk.count
        while l < h {
            let mid = (l + h) / 2
            let k = keyOf(chunk[mid])
            let before = strictlyAfter ? k <= key : k < key
            if before { l = mid + 1 } else { h = mid }
        }
        if l == chunk.count && c + 1 < chunks.count { return (c + 1, 0) }
        return (c, l)
    }

    mutating func insert(_ slot: UInt32, key: String, key keyOf: (UInt32) -> String) {
        count += 1
        if chunks.isEmpty {
            chunks = [[slot]]
            firstKeys = [key]
            return
        }
        var (c, i) = position(of: key, strictlyAfter: false, key: keyOf)
        if i == 0 && c > 0 && key < firstKeys[c] {
            // Append to the previous chunk rather than become a new first key.
            c -= 1
            i = chunks[c].count
        }
        chunks[c].insert(slot, at: i)
        if i == 0 { firstKeys[c] = key }
        if chunks[c].count > 2 * SortedKeyList.chunkSize {
            let tail = Array(chunks[c][SortedKeyList.chunkSize...])
            chunks[c].removeSubrange(SortedKeyList.chunkSize...)
            chunks.insert(tail, at: c + 1)
            firstKeys.insert(keyOf(tail[0]), at: c + 1)
        }
    }

    mutating func remove(_ slot: UInt32, key: String, key keyOf: (UInt32) -> String) {
        let (c, i) = position(of: key, strictlyAfter: false, key: keyOf)
        guard c < chunks.count, i < chunks[c].count, chunks[c][i] == slot else {
            assertionFailure("sorted index out of step with the table")
            return
        }
        count -= 1
        chunks[c].remove(at: i)
        if chunks[c].isEmpty {
            chunks.remove(at: c)
            firstKeys.remove(at: c)
        } else if i == 0 {
            firstKeys[c] = keyOf(chunks[c][0])
        }
    }

    /// Calls `body` with slots in key order, starting after `after` (or at `from`), until it
    /// returns false.
    func forEach(from key: String?, strictlyAfter: Bool, key keyOf: (UInt32) -> String,
                 _ body: (UInt32) -> Bool) {
        var (c, i) = key.map { position(of: $0, strictlyAfter: strictlyAfter, key: keyOf) } ?? (0, 0)
        while c < chunks.count {
            let chunk = chunks[c]
            while i < chunk.count {
                if !body(chunk[i]) { return }
                i += 1
            }
            c += 1
            i = 0
        }
    }

    var byteCount: Int { chunks.reduce(0) { $0 + $1.capacity * 4 + 32 } + firstKeys.count * 16 }
}
