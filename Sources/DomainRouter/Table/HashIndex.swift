/// An open-addressing hash index from a key's hash to a slot number; the caller stores the keys
/// and answers "is slot s this key?". Linear probing, backward-shift deletion (no tombstones).
///
/// Hand-written so that the table can probe with bytes from a stack buffer (no String built per
/// lookup), probe every suffix of a name for wildcards without allocating, and keep 8 bytes per
/// bucket: each entry is `hashTag << 32 | (slot + 1)`, 0 meaning empty. The bucket is the tag's
/// low bits, so growing never needs the keys.
struct HashIndex: Sendable {
    private(set) var entries: [UInt64]
    private(set) var count = 0
    private var mask: Int

    init(capacity: Int = 16) {
        var size = 16
        while size * 3 < capacity * 4 { size <<= 1 }
        entries = Array(repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    static func tag(_ hash: UInt64) -> UInt64 { hash >> 32 }

    /// The slot whose key `matches`, or nil.
    @inline(__always)
    func find(hash: UInt64, matches: (UInt32) -> Bool) -> UInt32? {
        let tag = HashIndex.tag(hash)
        return entries.withUnsafeBufferPointer { e in
            var i = Int(truncatingIfNeeded: tag) & mask
            while true {
                let entry = e[i]
                if entry == 0 { return nil }
                if entry >> 32 == tag {
                    let slot = UInt32(truncatingIfNeeded: entry) &- 1
                    if matches(slot) { return slot }
                }
                i = (i + 1) & mask
            }
        }
    }

    /// Adds `slot` under `hash`; the caller knows the key is not present.
    mutating func insert(hash: UInt64, slot: UInt32) {
        if (count + 1) * 4 > entries.count * 3 { grow() }
        place(HashIndex.tag(hash) << 32 | UInt64(slot &+ 1))
        count += 1
    }

    /// Removes `slot`, filed under `hash`.
    mutating func remove(hash: UInt64, slot: UInt32) {
        let entry = HashIndex.tag(hash) << 32 | UInt64(slot &+ 1)
        let mask = self.mask
        let found = entries.withUnsafeMutableBufferPointer { e -> Bool in
            var i = Int(truncatingIfNeeded: HashIndex.tag(hash)) & mask
            while e[i] != entry {
                if e[i] == 0 { return false }
                i = (i + 1) & mask
            }
            // Backward-shift: pull later entries of the run into the hole when their home allows.
            var hole = i
            var j = (i + 1) & mask
            while e[j] != 0 {
                let home = Int(truncatingIfNeeded: e[j] >> 32) & mask
                let distanceToHole = (j - home) & mask
                let distanceFromHole = (j - hole) & mask
                if distanceToHole >= distanceFromHole {
                    e[hole] = e[j]
                    hole = j
                }
                j = (j + 1) & mask
            }
            e[hole] = 0
            return true
        }
        if found { count -= 1 }
    }

    private mutating func place(_ entry: UInt64) {
        let mask = self.mask
        entries.withUnsafeMutableBufferPointer { e in
            var i = Int(truncatingIfNeeded: entry >> 32) & mask
            while e[i] != 0 { i = (i + 1) & mask }
            e[i] = entry
        }
    }

    private mutating func grow() {
        let old = entries
        entries = Array(repeating: 0, count: old.count * 2)
        mask = entries.count - 1
        for entry in old where entry != 0 { place(entry) }
    }

    /// Bytes held by the index, for memory reports.
    var byteCount: Int { entries.count * 8 }
}
