/// A tunnel's id: case-sensitive `[A-Za-z0-9._-]{1,128}`. The daemon assigns a random UUID
/// when an add names none.
public struct TunnelID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// Validates `rawValue`; throws `invalidArgument` naming the rule it breaks.
    public init(_ rawValue: String) throws(RouteError) {
        let bytes = rawValue.utf8
        guard (1...128).contains(bytes.count) else {
            throw .invalidArgument("tunnel id '\(rawValue.prefix(40))' must be 1 to 128 characters long")
        }
        for b in bytes {
            switch b {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                throw .invalidArgument(
                    "tunnel id '\(rawValue.prefix(40))' may contain only letters, digits, '.', '_' and '-'")
            }
        }
        self.rawValue = rawValue
    }

    init(unchecked rawValue: String) { self.rawValue = rawValue }

    /// A fresh random (version 4) UUID from the system CSPRNG, lower-case.
    public static func random() -> TunnelID {
        var rng = SystemRandomNumberGenerator()
        var hi = rng.next() as UInt64
        var lo = rng.next() as UInt64
        hi = (hi & ~0xF000) | 0x4000 // version 4
        lo = (lo & ~(0xC << 60)) | (0x8 << 60) // RFC 4122 variant
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (i, word) in [hi, lo].enumerated() {
            for nibble in 0..<16 {
                let position = i * 16 + nibble
                if position == 8 || position == 12 || position == 16 || position == 20 { out.append(UInt8(ascii: "-")) }
                out.append(digits[Int((word >> UInt64(60 - nibble * 4)) & 0xF)])
            }
        }
        return TunnelID(unchecked: String(decoding: out, as: UTF8.self))
    }

    public static func < (a: TunnelID, b: TunnelID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { rawValue }
}
