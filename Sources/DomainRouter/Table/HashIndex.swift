/// An open-addressing hash index from a key's hash to a slot number; the caller stores the keys
/// and answers "is slot s this key?". Linear probing, backward-shift deletion (no tombstones).
///
/// Hand-written so that the table can probe with bytes from a stack buffer (no String built per
/// lookup), probe every suffix of a name for wildcards without allocating, and keep 8 bytes per
/// bucket: each entry is `hashTag << 32 | (slot + 1)`, 0 meaning empty. The bucket is the tag's
/// low bits, so growing never needs the keys.
struct HashIndex: ~Copyable {
    private var entries: RawBuffer<UInt64>
    private(set) var count = 0
    private var mask: Int

    init(capacity: Int = 16) {
        var size = 16
        while size * 3 < capacity * 4 { size <<= 1 }
        entries = RawBuffer(capacity: size, zeroed: true)
        mask = size - 1
    }

    @inline(__always)
    static func tag(_ hash: UInt64) -> UInt64 { hash >> 32 }

    /// The slot whose key `matches`, or nil.
    @inline(__always)
    func find(hash: UInt64, matches: (UInt32) -> Bool) -> UInt32? {
        let tag = HashIndex.tag(hash)
        let e = entries.base
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

    /// Adds `slot` under `hash`; the caller knows the key is not present.
    mutating func insert(hash: UInt64, slot: UInt32) {
        if (count + 1) * 4 > (mask + 1) * 3 { grow() }
        place(HashIndex.tag(hash) << 32 | UInt64(slot &+ 1))
        count += 1
    }

    /// Removes `slot`, filed under `hash`.
    mutating func remove(hash: UInt64, slot: UInt32) {
        let entry = HashIndex.tag(hash) << 32 | UInt64(slot &+ 1)
        let e = entries.base
        var i = Int(truncatingIfNeeded: HashIndex.tag(hash)) & mask
        while e[i] != entry {
            if e[i] == 0 { return }
            i = (i + 1) & mask
        }
        // Backward-shift: pull later entries of the run into the hole when their home allows.
        var hole = i
        var j = (i + 1) & mask
        while e[j] != 0 {
            let home = Int(truncatingIfNeeded: e[j] >> 32) & mask
            if (j - home) & mask >= (j - hole) & mask {
                e[hole] = e[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        e[hole] = 0
        count -= 1
    }

    private mutating func place(_ entry: UInt64) {
        let e = entries.base
        var i = Int(truncatingIfNeeded: entry >> 32) & mask
        while e[i] != 0 { i = (i + 1) & mask }
        e[i] = entry
    }

    private mutating func grow() {
        let oldSize = mask + 1
        var old = RawBuffer<UInt64>(capacity: oldSize * 2, zeroed: true)
        swap(&old, &entries)
        mask = oldSize * 2 - 1
        for i in 0..<oldSize where old[i] != 0 { place(old[i]) }
    }
}
