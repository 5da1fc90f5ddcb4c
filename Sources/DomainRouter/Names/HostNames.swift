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

    // MARK: - Unicode (ICU) path

    static func canonicalUnicode(
        _ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, allowWildcard: Bool, checkIPLiteral: Bool
    ) throws(NameError) -> String {
        guard let input = String(validating: UnsafeBufferPointer(rebasing: p[range]), as: UTF8.self) else {
            throw .idna(label: text(UnsafeBufferPointer(rebasing: p[range])), reason: "it is not valid UTF-8")
        }
        for scalar in input.unicodeScalars {
            if scalar.properties.isWhitespace { throw .whitespace }
            if scalar.properties.generalCategory == .control { throw .controlCharacter }
        }
        var body = Substring(input)
        var prefix = ""
        if body.hasPrefix("*.") {
            prefix = "*."
            body = body.dropFirst(2)
        }
        let ascii = try icuToASCII(String(body))
        let name = try withBytes(prefix + ascii) { bytes in
            Result { () throws(NameError) -> String in
                try withScratch { out throws(NameError) in
                    let (count, _) = try canonicalASCII(bytes, 0..<bytes.count, into: out,
                                                        allowWildcard: allowWildcard,
                                                        checkIPLiteral: checkIPLiteral)
                    return text(UnsafeBufferPointer(start: out, count: count))
                }
            }
        }.get()
        try spoofCheck(name)
        return name
    }

    /// Checks that every `xn--` label of an ASCII name decodes, round-trips to itself and
    /// passes the mixed-script check.
    static func validateACE(_ name: String) throws(NameError) {
        let body = name.hasPrefix("*.") ? String(name.dropFirst(2)) : name
        let unicode: String
        do {
            unicode = try icuToUnicode(body)
        } catch {
            let bad = body.split(separator: ".").first { label in
                label.hasPrefix("xn--") && (try? icuToUnicode(String(label))) == nil
            }
            throw .invalidPunycode(label: String(bad ?? Substring(body)))
        }
        let again: String
        do { again = try icuToASCII(unicode) } catch { throw .invalidPunycode(label: body) }
        if again != body {
            let ours = body.split(separator: ".")
            let theirs = again.split(separator: ".")
            let bad = zip(ours, theirs).first { $0 != $1 }?.0 ?? Substring(body)
            throw .invalidPunycode(label: String(bad))
        }
        try spoofCheck(name)
    }

    static func spoofCheck(_ asciiName: String) throws(NameError) {
        for label in asciiName.split(separator: ".") where label.hasPrefix("xn--") {
            guard let ulabel = try? icuToUnicode(String(label)) else {
                throw .invalidPunycode(label: String(label))
            }
            let verdict = withBytes(ulabel) { cidna_spoof_check($0.baseAddress, Int32($0.count)) }
            if verdict != 0 { throw .mixedScripts(label: ulabel) }
            try idna2008Check(ulabel)
            try wholeScriptCheck(ulabel)
        }
    }

    /// Refuses a U-label with a code point that RFC 5892 makes DISALLOWED or UNASSIGNED
    /// (UTS #46 maps input compatibly but lets symbols and emoji through).
    static func idna2008Check(_ ulabel: String) throws(NameError) {
        let found = withBytes(ulabel) { cidna_idna2008_disallowed($0.baseAddress, Int32($0.count)) }
        if found > 0 { throw .disallowedCodePoint(label: ulabel, codePoint: UInt32(found)) }
        if found < 0 { throw .idna(label: ulabel, reason: "it is not valid UTF-8") }
    }

    /// Refuses a U-label written wholly in one non-Latin script whose UTS #39 skeleton is a
    /// plain ASCII name (Cyrillic `рау` imitating `pay`).
    static func wholeScriptCheck(_ ulabel: String) throws(NameError) {
        let imitated: String? = withBytes(ulabel) { bytes in
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: 1024) { out in
                let n = bytes.withMemoryRebound(to: CChar.self) { input in
                    cidna_latin_lookalike(input.baseAddress, Int32(input.count), out.baseAddress, Int32(out.count))
                }
                guard n > 0 else { return nil }
                return String(decoding: UnsafeRawBufferPointer(start: out.baseAddress, count: Int(n)), as: UTF8.self)
            }
        }
        if let imitated { throw .latinLookalike(label: ulabel, imitates: imitated) }
    }

    static func icuToASCII(_ input: String) throws(NameError) -> String {
        let result: Result<String, IDNAFailure> = icuConvert(input, cidna_name_to_ascii)
        switch result {
        case .success(let s): return s
        case .failure(let failure):
            let bits = failure.bits
            // Find the label that fails on its own, so the message can name it.
            let dots: Set<Character> = [".", "\u{3002}", "\u{FF0E}", "\u{FF61}"]
            for label in input.split(omittingEmptySubsequences: false, whereSeparator: { dots.contains($0) }) {
                if case .failure(let labelFailure) = icuConvert(String(label), cidna_name_to_ascii) {
                    throw idnaError(label: String(label), bits: labelFailure.bits)
                }
            }
            throw idnaError(label: input, bits: bits)
        }
    }

    static func icuToUnicode(_ input: String) throws(NameError) -> String {
        switch icuConvert(input, cidna_name_to_unicode) {
        case .success(let s): return s
        case .failure(let failure): throw idnaError(label: input, bits: failure.bits)
        }
    }

    typealias Converter = (UnsafePointer<CChar>?, Int32, UnsafeMutablePointer<CChar>?, Int32,
                           UnsafeMutablePointer<UInt32>?) -> Int32

    static func icuConvert(_ input: String, _ convert: Converter) -> Result<String, IDNAFailure> {
        if input.utf8.count > 1024 { return .failure(IDNAFailure(bits: UInt32(CIDNA_ERROR_DOMAIN_NAME_TOO_LONG))) }
        return withBytes(input) { bytes in
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { out in
                var errors: UInt32 = 0
                let n = bytes.withMemoryRebound(to: CChar.self) { inp in
                    convert(inp.baseAddress, Int32(inp.count), out.baseAddress, Int32(out.count), &errors)
                }
                guard n >= 0 else { return .failure(IDNAFailure(bits: errors)) }
                let written = UnsafeRawBufferPointer(start: out.baseAddress, count: Int(n))
                return .success(String(decoding: written, as: UTF8.self))
            }
        }
    }

    struct IDNAFailure: Error {
        var bits: UInt32
    }

    static func idnaError(label: String, bits: UInt32) -> NameError {
        func has(_ flag: Int) -> Bool { bits & UInt32(flag) != 0 }
        if has(Int(CIDNA_ERROR_EMPTY_LABEL)) { return .emptyLabel(name: label) }
        if has(Int(CIDNA_ERROR_DOMAIN_NAME_TOO_LONG)) { return .tooLong(length: label.utf8.count) }
        if has(Int(CIDNA_ERROR_LABEL_TOO_LONG)) { return .labelTooLong(label: label, length: label.utf8.count) }
        let reason: String
        if has(Int(CIDNA_ERROR_DISALLOWED)) {
            reason = "it contains a character that is not allowed in host names"
        } else if has(Int(CIDNA_ERROR_PUNYCODE)) || has(Int(CIDNA_ERROR_INVALID_ACE_LABEL)) {
            return .invalidPunycode(label: label)
        } else if has(Int(CIDNA_ERROR_LEADING_HYPHEN)) || has(Int(CIDNA_ERROR_TRAILING_HYPHEN)) {
            return .hyphenAtEdge(label: label)
        } else if has(Int(CIDNA_ERROR_HYPHEN_3_4)) {
            return .hyphenAtThreeFour(label: label)
        } else if has(Int(CIDNA_ERROR_BIDI)) {
            reason = "it mixes right-to-left and left-to-right text against the Bidi rule (RFC 5893)"
        } else if has(Int(CIDNA_ERROR_CONTEXTJ)) {
            reason = "it has a zero-width joiner or non-joiner where it is not allowed (RFC 5892)"
        } else if has(Int(CIDNA_ERROR_LEADING_COMBINING_MARK)) {
            reason = "it starts with a combining mark"
        } else if has(Int(CIDNA_ERROR_LABEL_HAS_DOT)) {
            reason = "it contains a dot"
        } else if has(Int(CIDNA_ERROR_CONTEXTO_DIGITS)) || has(Int(CIDNA_ERROR_CONTEXTO_PUNCTUATION)) {
            reason = "it has a character not allowed in this context (RFC 5892)"
        } else {
            reason = "it could not be converted"
        }
        return .idna(label: label, reason: reason)
    }
}
