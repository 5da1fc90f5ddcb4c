import CIDNA
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a name comes from; it decides which decorations the input may carry.
public enum NameSource: Sendable {
    /// A name given to register a route: a label (`foo`) or a full name. A port is refused.
    case name
    /// A raw HTTP Host header value: a port (1–65535) is checked and dropped.
    case hostHeader
    /// A TLS SNI value: a port is refused.
    case sni
}

/// The one canonicalizer for host names, used by registration and lookup alike.
///
/// A canonical name is lower-case ASCII A-labels joined by dots, without a trailing dot or a
/// port, at most 253 octets, each label following RFC 1123. Pure-ASCII input takes a fast path
/// that never calls ICU; Unicode input goes through UTS #46 non-transitional ToASCII (STD3,
/// Bidi, ContextJ) and a UTS #39 mixed-script check, both in ICU behind the `CIDNA` target.
public enum HostNames {
    /// The longest canonical name, in octets (RFC 1035 presentation form without the root dot).
    public static let maximumLength = 253
    /// The longest label, in octets.
    public static let maximumLabelLength = 63

    /// Returns the canonical form of `input` or throws the rule it breaks.
    ///
    /// - Parameters:
    ///   - source: what the input is (a name to register, a Host header value, an SNI value).
    ///   - allowWildcard: whether `*` may stand as the whole leftmost label.
    ///   - validateIDN: whether existing `xn--` labels are decoded and checked (registration
    ///     does this; lookups skip it, since a bad A-label simply never matches).
    public static func canonicalize(
        _ input: String,
        as source: NameSource = .name,
        allowWildcard: Bool = false,
        validateIDN: Bool = true
    ) throws(NameError) -> String {
        try canonicalize(input, as: source, allowWildcard: allowWildcard, validateIDN: validateIDN,
                         checkIPLiteral: true)
    }

    /// The Unicode form of a canonical name (U-labels), for display; nil when it has none.
    public static func unicode(_ canonical: String) -> String? {
        guard canonical.contains("xn--") else { return nil }
        return try? icuToUnicode(canonical)
    }

    // MARK: - Internals shared with the table

    static func canonicalize(
        _ input: String, as source: NameSource, allowWildcard: Bool, validateIDN: Bool,
        checkIPLiteral: Bool
    ) throws(NameError) -> String {
        let result: Result<String, NameError> = withBytes(input) { whole in
            do throws(NameError) {
                // A Host field value carries no optional whitespace around it (RFC 9110 section 5.5).
                let bytes = source == .hostHeader ? trimmingOptionalWhitespace(whole) : whole
                let split = try splitPort(bytes, source: source)
                if split.nonASCII {
                    return .success(try canonicalUnicode(bytes, split.host, allowWildcard: allowWildcard,
                                                         checkIPLiteral: checkIPLiteral))
                }
                let (name, hasACE) = try withScratch { out throws(NameError) in
                    let (count, ace) = try canonicalASCII(bytes, split.host, into: out,
                                                          allowWildcard: allowWildcard,
                                                          checkIPLiteral: checkIPLiteral)
                    return (String(decoding: UnsafeBufferPointer(start: out, count: count), as: UTF8.self), ace)
                }
                if hasACE && validateIDN { try validateACE(name) }
                return .success(name)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    @inline(__always)
    static func withBytes<R>(_ string: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var string = string
        return string.withUTF8(body)
    }

    @inline(__always)
    static func withScratch<R>(
        _ body: (UnsafeMutablePointer<UInt8>) throws(NameError) -> R
    ) throws(NameError) -> R {
        let result: Result<R, NameError> = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 512) { buffer in
            do throws(NameError) { return .success(try body(buffer.baseAddress!)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// `p` without the spaces and tabs (HTTP's OWS) at either end.
    static func trimmingOptionalWhitespace(_ p: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0
        var end = p.count
        while start < end && (p[start] == 0x20 || p[start] == 0x09) { start += 1 }
        while end > start && (p[end - 1] == 0x20 || p[end - 1] == 0x09) { end -= 1 }
        return UnsafeBufferPointer(rebasing: p[start..<end])
    }

    struct Split {
        var host: Range<Int>
        var nonASCII: Bool
    }

    /// Refuses characters no host name has and splits off a port where the source allows one.
    static func splitPort(_ p: UnsafeBufferPointer<UInt8>, source: NameSource) throws(NameError) -> Split {
        if p.isEmpty { throw .empty }
        var nonASCII = false
        var colons = 0
        var lastColon = 0
        for i in 0..<p.count {
            let b = p[i]
            if b >= 0x80 { nonASCII = true; continue }
            switch b {
            case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D: throw .whitespace
            case 0x00..<0x20, 0x7F: throw .controlCharacter
            case UInt8(ascii: "%"): throw .percentEncoding
            case UInt8(ascii: "@"): throw .userinfo
            case UInt8(ascii: "["), UInt8(ascii: "]"): throw .ipLiteral(text(p))
            case UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#"), UInt8(ascii: "\\"):
                throw .notAHostName(character: String(UnicodeScalar(b)))
            case UInt8(ascii: ":"):
                colons += 1
                lastColon = i
            default:
                break
            }
        }
        // Host and SNI values are ASCII on the wire (RFC 3986 reg-name, RFC 6066 HostName):
        // clients send A-labels, so raw Unicode there is never a name that routes.
        if nonASCII && source != .name { throw .nonASCIIOnWire }
        if source == .sni && p.last == UInt8(ascii: ".") { throw .trailingDotInSNI }
        if colons > 1 { throw .ipLiteral(text(p)) }
        guard colons == 1 else { return Split(host: 0..<p.count, nonASCII: nonASCII) }
        let port = UnsafeBufferPointer(rebasing: p[(lastColon + 1)...])
        switch source {
        case .name, .sni:
            throw .portNotAllowed(text(port))
        case .hostHeader:
            // An empty port (`name:`) is no port (RFC 3986 section 3.2.3).
            if port.isEmpty { return Split(host: 0..<lastColon, nonASCII: nonASCII) }
            var value = 0
            for b in port {
                guard b >= 0x30 && b <= 0x39, port.count <= 5 else { throw .invalidPort(text(port)) }
                value = value * 10 + Int(b - 0x30)
            }
            guard (1...65535).contains(value) else { throw .invalidPort(text(port)) }
        }
        return Split(host: 0..<lastColon, nonASCII: nonASCII)
    }

    /// Validates and lower-cases an ASCII name into `out`; returns its length and whether it
    /// has an `xn--` label.
    static func canonicalASCII(
        _ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: UnsafeMutablePointer<UInt8>,
        allowWildcard: Bool, checkIPLiteral: Bool
    ) throws(NameError) -> (Int, Bool) {
        var end = range.upperBound
        let start = range.lowerBound
        if end > start && p[end - 1] == UInt8(ascii: ".") { end -= 1 }
        let n = end - start
        if n == 0 {
            if range.isEmpty { throw .empty }
            throw .emptyLabel(name: ".")
        }
        if n > maximumLength { throw .tooLong(length: n) }
        var o = 0
        var labelStart = 0
        var isFirst = true
        var hasACE = false
        var i = start
        while true {
            if i == end || p[i] == UInt8(ascii: ".") {
                let label = UnsafeBufferPointer(start: out + labelStart, count: o - labelStart)
                try checkLabel(label, first: isFirst, last: i == end, allowWildcard: allowWildcard,
                               hasACE: &hasACE, name: UnsafeBufferPointer(rebasing: p[start..<end]))
                if i == end { break }
                out[o] = UInt8(ascii: ".")
                o += 1
                labelStart = o
                isFirst = false
            } else {
                var b = p[i]
                if b >= 0x41 && b <= 0x5A { b |= 0x20 }
                out[o] = b
                o += 1
            }
            i += 1
        }
        if checkIPLiteral {
            let last = UnsafeBufferPointer(start: out + labelStart, count: o - labelStart)
            if isNumericLabel(last) { throw .ipLiteral(text(UnsafeBufferPointer(start: out, count: o))) }
        }
        return (o, hasACE)
    }

    /// A last label that is a number (decimal, or `0x` hex) makes the name an IPv4 literal
    /// in the WHATWG URL parser and in `inet_aton` (`2130706433`, `0x7f.1`, `0177.0.0.1`).
    static func isNumericLabel(_ label: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !label.isEmpty else { return false }
        if label.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return true }
        if label.count >= 2 && label[0] == UInt8(ascii: "0") && label[1] == UInt8(ascii: "x") {
            return label.dropFirst(2).allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
        }
        return false
    }

    static func checkLabel(
        _ label: UnsafeBufferPointer<UInt8>, first: Bool, last: Bool, allowWildcard: Bool,
        hasACE: inout Bool, name: UnsafeBufferPointer<UInt8>
    ) throws(NameError) {
        let n = label.count
        if n == 0 { throw .emptyLabel(name: text(name)) }
        if n == 1 && label[0] == UInt8(ascii: "*") {
            if last && first { throw .bareWildcard }
            if !first { throw .misplacedWildcard(label: "*") }
            if !allowWildcard { throw .wildcardNotAllowed }
            return
        }
        if n > maximumLabelLength { throw .labelTooLong(label: text(label), length: n) }
        for b in label {
            switch b {
            case 0x61...0x7A, 0x30...0x39, UInt8(ascii: "-"):
                continue
            case UInt8(ascii: "*"):
                throw .misplacedWildcard(label: text(label))
            default:
                throw .invalidCharacter(label: text(label), character: String(UnicodeScalar(b)))
            }
        }
        if label[0] == UInt8(ascii: "-") || label[n - 1] == UInt8(ascii: "-") {
            throw .hyphenAtEdge(label: text(label))
        }
        if n >= 4 && label[2] == UInt8(ascii: "-") && label[3] == UInt8(ascii: "-") {
            guard label[0] == UInt8(ascii: "x") && label[1] == UInt8(ascii: "n") else {
                throw .hyphenAtThreeFour(label: text(label))
            }
            hasACE = true
        }
    }

    static func text(_ p: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: p, as: UTF8.self)
    }
}
