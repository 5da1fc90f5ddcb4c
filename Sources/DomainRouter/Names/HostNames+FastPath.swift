#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The lookup fast path: plain ASCII names in one pass, no ICU, no allocation.
extension HostNames {
    /// The lookup fast path: canonicalizes plain ASCII names (letters, digits, hyphens, dots,
    /// a Host header's port) into `out` in one pass and returns the length and whether
    /// anything changed; nil for everything else (Unicode, `xn--`-like labels, anything
    /// malformed), which `canonicalize` then handles or refuses. Accepts nothing that
    /// `canonicalize` refuses and yields the same bytes (a test checks both agree).
    @inline(__always)
    static func fastCanonical(
        _ p: UnsafeBufferPointer<UInt8>, source: NameSource, into out: UnsafeMutablePointer<UInt8>
    ) -> (count: Int, changed: Bool)? {
        let n = p.count
        guard n > 0, n <= maximumLength + 7, let base = p.baseAddress else { return nil }
        var o = 0
        var labelStart = 0
        var changed = false
        var lastLabelNumeric = true
        var i = 0
        while i < n {
            var b = base[i]
            switch b {
            case 0x61...0x7A:
                lastLabelNumeric = false
            case 0x41...0x5A:
                b |= 0x20
                changed = true
                lastLabelNumeric = false
            case 0x30...0x39:
                break
            case UInt8(ascii: "-"):
                if o == labelStart { return nil } // leading hyphen
                if o &- labelStart == 3 && out[o &- 1] == UInt8(ascii: "-") { return nil } // "--" at 3-4
                lastLabelNumeric = false
            case UInt8(ascii: "."):
                let length = o &- labelStart
                if length == 0 || length > maximumLabelLength || out[o &- 1] == UInt8(ascii: "-") { return nil }
                if i == n &- 1 || base[i &+ 1] == UInt8(ascii: ":") {
                    // A trailing dot (absolute name), possibly before a port; an SNI never has one.
                    if source == .sni { return nil }
                    changed = true
                    i &+= 1
                    continue
                }
                out[o] = b
                o &+= 1
                labelStart = o
                lastLabelNumeric = true
                i &+= 1
                continue
            case UInt8(ascii: ":"):
                guard source == .hostHeader, i &+ 1 < n, n &- i &- 1 <= 5 else { return nil }
                var port = 0
                for j in (i &+ 1)..<n {
                    let d = base[j]
                    guard d >= 0x30 && d <= 0x39 else { return nil }
                    port = port &* 10 &+ Int(d &- 0x30)
                }
                guard port >= 1 && port <= 65535 else { return nil }
                changed = true
                i = n
                continue
            default:
                return nil
            }
            out[o] = b
            o &+= 1
            i &+= 1
        }
        let length = o &- labelStart
        guard length > 0, length <= maximumLabelLength, out[o &- 1] != UInt8(ascii: "-"),
              o <= maximumLength, !lastLabelNumeric else { return nil }
        // A last label such as `0x7f` makes an IPv4 literal; leave those to the full path.
        if length >= 2 && out[labelStart] == UInt8(ascii: "0") && out[labelStart &+ 1] == UInt8(ascii: "x") {
            return nil
        }
        return (o, changed)
    }
}
