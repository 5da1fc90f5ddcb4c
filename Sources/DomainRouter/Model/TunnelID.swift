/// A tunnel's id: case-sensitive `[A-Za-z0-9._-]{1,128}`. The daemon assigns a UUID (version
/// 7: the time in milliseconds, then 74 random bits) when an add names none.
///
/// A canonical lower-case UUID (the ids the daemon draws, and most that gateways send) is held
/// as its 128 bits rather than as text: no heap object per route, and writers format it
/// straight into their output. Two ids are equal exactly when their texts are.
public struct TunnelID: Hashable, Comparable, Sendable, CustomStringConvertible {
    enum Storage: Hashable, Sendable {
        case uuid(UInt64, UInt64)
        case text(String)
    }

    let storage: Storage

    /// The id's text.
    public var rawValue: String {
        switch storage {
        case .uuid(let hi, let lo): return TunnelID.uuidString(hi, lo)
        case .text(let text): return text
        }
    }

    /// Validates `rawValue`; throws `invalidArgument` naming the rule it breaks.
    public init(_ rawValue: String) throws(RouteError) {
        let bytes = rawValue.utf8
        // A canonical UUID (most ids: routerd draws them) is valid as it parses.
        if bytes.count == 36, let (hi, lo) = HostNames.withBytes(rawValue, TunnelID.uuidBits) {
            self.init(uuidBits: hi, lo)
            return
        }
        guard (1...128).contains(bytes.count) else {
            throw .invalidArgument("tunnel id '\(rawValue.clipped(40))' must be 1 to 128 characters long")
        }
        for b in bytes {
            switch b {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                throw .invalidArgument(
                    "tunnel id '\(rawValue.clipped(40))' may contain only letters, digits, '.', '_' and '-'")
            }
        }
        self.init(unchecked: rawValue)
    }

    /// Validates the id written as `utf8`, as `init(_:)` does; a canonical UUID (the ids most
    /// stored routes carry) is read from the bytes without making a String of them.
    package init(utf8: UnsafeBufferPointer<UInt8>) throws(RouteError) {
        if let (hi, lo) = TunnelID.uuidBits(utf8) {
            self.init(uuidBits: hi, lo)
            return
        }
        try self.init(String(decoding: utf8, as: UTF8.self))
    }

    /// An id already known to be valid (from the table's own storage).
    init(unchecked rawValue: String) {
        if rawValue.utf8.count == 36, let (hi, lo) = HostNames.withBytes(rawValue, TunnelID.uuidBits) {
            storage = .uuid(hi, lo)
        } else {
            storage = .text(rawValue)
        }
    }

    /// The id of these UUID bits (as stored in the table).
    init(uuidBits hi: UInt64, _ lo: UInt64) {
        storage = .uuid(hi, lo)
    }

    /// The UUID bits, when the id is a canonical lower-case UUID.
    var uuid: (UInt64, UInt64)? {
        if case .uuid(let hi, let lo) = storage { return (hi, lo) }
        return nil
    }

    /// The longest id text.
    public static let maximumLength = 128

    /// Writes the id's text to `out` (room for `maximumLength` bytes) and returns its length:
    /// for replies written straight into a socket buffer.
    @inline(__always)
    public func writeText(to out: UnsafeMutablePointer<UInt8>) -> Int {
        switch storage {
        case .uuid(let hi, let lo):
            TunnelID.writeUUID(hi, lo, to: out)
            return 36
        case .text(let text):
            var text = text
            return text.withUTF8 { bytes in
                out.update(from: bytes.baseAddress!, count: bytes.count)
                return bytes.count
            }
        }
    }

    /// Calls `body` with the id's text as UTF-8 bytes, without building a String for a UUID.
    public func withUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        switch storage {
        case .uuid(let hi, let lo):
            return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 36) { out in
                TunnelID.writeUUID(hi, lo, to: out.baseAddress!)
                return try body(UnsafeBufferPointer(out))
            }
        case .text(let text):
            var text = text
            return try text.withUTF8 { try body($0) }
        }
    }

    /// A fresh UUID (version 7) for now, its random bits from the system CSPRNG, lower-case.
    public static func random() -> TunnelID {
        var rng = SystemRandomNumberGenerator()
        return uuid(at: SystemClock().now().millisecondsSinceEpoch, rng.next(), rng.next())
    }

    /// A version 7 UUID (RFC 9562): the 48-bit Unix time `milliseconds`, then 74 of these
    /// random bits. Ids drawn later sort after earlier ones, so an index over them (the state
    /// file's history by tunnel) grows at its end instead of at random pages.
    static func uuid(at milliseconds: Int64, _ high: UInt64, _ low: UInt64) -> TunnelID {
        let time = UInt64(truncatingIfNeeded: milliseconds) & 0xFFFF_FFFF_FFFF
        let hi = time << 16 | 0x7000 | (high & 0x0FFF) // version 7, 12 random bits
        let lo = (low & ~(0xC << 60)) | (0x8 << 60) // RFC 9562 variant, 62 random bits
        return TunnelID(uuidBits: hi, lo)
    }

    /// Writes the canonical 36-character form of a UUID to `out`.
    @inline(__always)
    static func writeUUID(_ hi: UInt64, _ lo: UInt64, to out: UnsafeMutablePointer<UInt8>) {
        var o = 0
        @inline(__always) func hex(_ word: UInt64, _ from: Int, _ to: Int) {
            var shift = 60 - from * 4
            for _ in from..<to {
                let v = UInt8(truncatingIfNeeded: word >> UInt64(shift)) & 0xF
                out[o] = v < 10 ? 0x30 &+ v : 0x57 &+ v
                o &+= 1
                shift &-= 4
            }
        }
        @inline(__always) func dash() {
            out[o] = UInt8(ascii: "-")
            o &+= 1
        }
        hex(hi, 0, 8); dash(); hex(hi, 8, 12); dash(); hex(hi, 12, 16); dash()
        hex(lo, 0, 4); dash(); hex(lo, 4, 16)
    }

    static func uuidString(_ hi: UInt64, _ lo: UInt64) -> String {
        String(unsafeUninitializedCapacity: 36) { out in
            writeUUID(hi, lo, to: out.baseAddress!)
            return 36
        }
    }

    /// The 128 bits of a canonical lower-case UUID (`8-4-4-4-12` hex digits), or nil.
    ///
    /// Without a branch a digit (every stored route's tunnel id is read this way): a digit's
    /// value is picked, and its validity gathered, arithmetically.
    static func uuidBits(_ bytes: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64)? {
        guard bytes.count == 36, let p = bytes.baseAddress, p[8] == 0x2D, p[13] == 0x2D, p[18] == 0x2D, p[23] == 0x2D else {
            return nil
        }
        var bad: UInt8 = 0
        @inline(__always) func digits(_ from: Int, _ count: Int, into word: inout UInt64) {
            for i in from..<(from + count) {
                let c = p[i]
                let digit = c &- 0x30, letter = c &- 0x61
                let isDigit = digit < 10, isLetter = letter < 6
                bad |= (isDigit || isLetter) ? 0 : 1
                word = word << 4 | UInt64(isDigit ? digit : letter &+ 10) & 0xF
            }
        }
        var hi: UInt64 = 0, lo: UInt64 = 0
        digits(0, 8, into: &hi)
        digits(9, 4, into: &hi)
        digits(14, 4, into: &hi)
        digits(19, 4, into: &lo)
        digits(24, 12, into: &lo)
        return bad == 0 ? (hi, lo) : nil
    }

    /// Orders values for sorting.
    public static func < (a: TunnelID, b: TunnelID) -> Bool { a.rawValue < b.rawValue }
    /// The text for a person: messages and logs.
    public var description: String { rawValue }
}
