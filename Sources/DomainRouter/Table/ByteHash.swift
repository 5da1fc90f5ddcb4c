/// A fast seeded hash over canonical UTF-8 bytes, for the table's own indexes.
///
/// Hand-written: the standard library's SipHash (behind `Hasher`) costs most of a String
/// dictionary lookup, and no package here offers a byte-slice hash. It multiplies 64-bit words
/// into a 128-bit product and folds it (the "mum" step of wyhash), keyed by secrets drawn
/// from the system CSPRNG for each table, so an attacker who picks Host headers cannot
/// predict bucket collisions.
struct ByteHash: Sendable {
    let s0: UInt64
    let s1: UInt64
    let s2: UInt64

    /// Fresh secrets from the system CSPRNG; each table draws its own.
    init() {
        var rng = SystemRandomNumberGenerator()
        s0 = rng.next() | 1
        s1 = rng.next() | 1
        s2 = rng.next() | 1
    }

    @inline(__always)
    static func mum(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    @inline(__always)
    func callAsFunction(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let n = bytes.count
        var h = s0 ^ UInt64(truncatingIfNeeded: n)
        guard let base = bytes.baseAddress else { return ByteHash.mum(h, s1) }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= n {
            let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = ByteHash.mum(word ^ s1, h ^ s2)
            i += 8
        }
        if i < n {
            var word: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                word |= UInt64(base[i]) << shift
                shift += 8
                i += 1
            }
            h = ByteHash.mum(word ^ s1, h ^ s2)
        }
        return ByteHash.mum(h ^ s0, s2)
    }

    /// The hash of a UUID's two 64-bit halves: the tunnel index hashes a canonical UUID by its
    /// bits, never formatting its text (text ids are hashed as bytes; the two never name the
    /// same tunnel, so their hashes need not agree).
    @inline(__always)
    func callAsFunction(_ high: UInt64, _ low: UInt64) -> UInt64 {
        var h = s0 ^ 16
        h = ByteHash.mum(high ^ s1, h ^ s2)
        h = ByteHash.mum(low ^ s1, h ^ s2)
        return ByteHash.mum(h ^ s0, s2)
    }
}
