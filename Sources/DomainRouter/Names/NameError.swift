/// Why a name was refused. Each case names the offending label (where there is one) and the
/// rule it breaks, so the message tells a person what to change.
public enum NameError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case tooLong(length: Int)
    case emptyLabel(name: String)
    case labelTooLong(label: String, length: Int)
    case invalidCharacter(label: String, character: String)
    case hyphenAtEdge(label: String)
    case hyphenAtThreeFour(label: String)
    case invalidPunycode(label: String)
    case ipLiteral(String)
    case userinfo
    case whitespace
    case controlCharacter
    case percentEncoding
    case notAHostName(character: String)
    case misplacedWildcard(label: String)
    case bareWildcard
    case wildcardNotAllowed
    case invalidPort(String)
    case portNotAllowed(String)
    case idna(label: String, reason: String)
    case mixedScripts(label: String)
    case disallowedCodePoint(label: String, codePoint: UInt32)
    case latinLookalike(label: String, imitates: String)
    case nonASCIIOnWire
    case invalidTCPKey(String)
    case trailingDotInSNI
    case ambiguousLabel(label: String, baseDomains: [String])

    public var description: String {
        switch self {
        case .empty:
            return "the name is empty"
        case .tooLong(let length):
            return "the name is \(length) octets long; a host name has at most 253"
        case .emptyLabel(let name):
            return "'\(name)' has an empty label (a leading dot or two dots in a row)"
        case .labelTooLong(let label, let length):
            return "label '\(label.prefix(20))…' is \(length) octets long; a label has at most 63"
        case .invalidCharacter(let label, let character):
            return "label '\(label)' contains '\(character)'; labels use only letters, digits and hyphens (RFC 1123)"
        case .hyphenAtEdge(let label):
            return "label '\(label)' starts or ends with a hyphen (RFC 1123)"
        case .hyphenAtThreeFour(let label):
            return "label '\(label)' has '--' in positions 3-4, which only a valid 'xn--' IDN label may have"
        case .invalidPunycode(let label):
            return "label '\(label)' is not a valid IDN A-label ('xn--' followed by canonical Punycode)"
        case .ipLiteral(let text):
            return "'\(text)' is an IP address literal; routes are for host names"
        case .userinfo:
            return "the name contains '@' (userinfo); pass only the host name"
        case .whitespace:
            return "the name contains whitespace"
        case .controlCharacter:
            return "the name contains a control character or NUL"
        case .percentEncoding:
            return "the name contains '%'; percent-encoding is not allowed in host names"
        case .notAHostName(let character):
            return "the name contains '\(character)'; pass a host name, not a URL"
        case .misplacedWildcard(let label):
            return "'*' in label '\(label)': a wildcard is only the whole leftmost label, as in *.example.com"
        case .bareWildcard:
            return "'*' alone is not a name; a wildcard looks like *.example.com"
        case .wildcardNotAllowed:
            return "a wildcard is not allowed here; pass a concrete host name"
        case .invalidPort(let port):
            return "port '\(port)' is not a number from 1 to 65535"
        case .portNotAllowed(let port):
            return "a host route has no port (got ':\(port)'); use tcp:PORT for a TCP route"
        case .idna(let label, let reason):
            return "label '\(label)' is not a valid internationalized name: \(reason) (UTS #46)"
        case .mixedScripts(let label):
            return "label '\(label)' mixes scripts, as look-alike spoofs do (UTS #39); use one script per label"
        case .disallowedCodePoint(let label, let codePoint):
            let hex = String(codePoint, radix: 16, uppercase: true)
            let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            let glyph = Unicode.Scalar(codePoint).map { " '\(Character($0))'" } ?? ""
            return "label '\(label)' contains \(code)\(glyph), which IDNA2008 does not allow in a name (RFC 5892: letters, digits, marks and hyphens only; no symbols or emoji)"
        case .latinLookalike(let label, let imitates):
            return "label '\(label)' looks like the Latin name '\(imitates)' though written in another script (a UTS #39 whole-script confusable, the look-alike phishing pattern); choose a name that does not imitate a Latin one"
        case .nonASCIIOnWire:
            return "the value has raw non-ASCII bytes; Host headers and SNI names are ASCII on the wire, and clients send internationalized names as A-labels (xn--…)"
        case .invalidTCPKey:
            return "a TCP key is tcp:PORT with PORT from 1 to 65535 (or tcp:auto, to add any free port)"
        case .trailingDotInSNI:
            return "an SNI host name has no trailing dot (RFC 6066 section 3)"
        case .ambiguousLabel(let label, let bases):
            return "'\(label)' is a bare label and there are several base domains (\(bases.joined(separator: ", "))); give the full name, e.g. \(label).\(bases.first ?? "example.com")"
        }
    }
}
