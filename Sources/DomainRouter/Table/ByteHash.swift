/// A fast seeded hash over canonical UTF-8 bytes, for the table's own indexes.
///
/// Hand-written: the standard library's SipHash (behind `Hasher`) costs most of a String
/// dictionary lookup, and no package here offers a byte-slice hash. It multiplies 64-bit words
/// into a 128-bit product and folds it (the "mum" step of wyhash), keyed by secrets drawn
/// from the system CSPRNG once per process, so an attacker who picks Host headers cannot
/// predict bucket collisions.
enum ByteHash {
    static let secrets: (UInt64, UInt64, UInt64) = {
        var rng = SystemRandomNumberGenerator()
        return (rng.next() | 1, rng.next() | 1, rng.next() | 1)
    }()

    @inline(__always)
    static func mum(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let (s0, s1, s2) = secrets
        let n = bytes.count
        var h = s0 ^ UInt64(truncatingIfNeeded: n)
        guard let base = bytes.baseAddress else { return mum(h, s1) }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= n {
            let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = mum(word ^ s1, h ^ s2)
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
            h = mum(word ^ s1, h ^ s2)
        }
        return mum(h ^ s0, s2)
    }

    static func hash(_ string: String) -> UInt64 {
        HostNames.withBytes(string) { hash($0) }
    }
}
