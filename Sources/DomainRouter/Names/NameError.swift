/// Why a name was refused: the offending label (where there is one) and the rule it breaks, so
/// the message (`description`) tells a person what to change.
///
/// A struct over an internal kind, so that new rules do not break code that embeds the table:
/// compare with `==` against the static members (`.empty`, `.labelTooLong(label:length:)`, …)
/// rather than switching over cases.
public struct NameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The rule broken, with its facts.
    package enum Kind: Hashable, Sendable {
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
    }

    package let kind: Kind

    package init(_ kind: Kind) {
        self.kind = kind
    }

    /// The name is empty.
    public static let empty = NameError(.empty)
    /// The whole name is over 253 octets.
    public static func tooLong(length: Int) -> NameError { NameError(.tooLong(length: length)) }
    /// A leading dot or two dots in a row.
    public static func emptyLabel(name: String) -> NameError { NameError(.emptyLabel(name: name)) }
    /// A label is over 63 octets.
    public static func labelTooLong(label: String, length: Int) -> NameError { NameError(.labelTooLong(label: label, length: length)) }
    /// A label has a character other than letters, digits and hyphens (RFC 1123).
    public static func invalidCharacter(label: String, character: String) -> NameError { NameError(.invalidCharacter(label: label, character: character)) }
    /// A label starts or ends with a hyphen.
    public static func hyphenAtEdge(label: String) -> NameError { NameError(.hyphenAtEdge(label: label)) }
    /// `--` in positions 3-4 of a label that is not a valid `xn--` A-label.
    public static func hyphenAtThreeFour(label: String) -> NameError { NameError(.hyphenAtThreeFour(label: label)) }
    /// An `xn--` label that is not canonical Punycode.
    public static func invalidPunycode(label: String) -> NameError { NameError(.invalidPunycode(label: label)) }
    /// An IP address literal, in any of its forms.
    public static func ipLiteral(_ text: String) -> NameError { NameError(.ipLiteral(text)) }
    /// An `@` (URL userinfo).
    public static let userinfo = NameError(.userinfo)
    /// Whitespace inside the name.
    public static let whitespace = NameError(.whitespace)
    /// A control character or NUL.
    public static let controlCharacter = NameError(.controlCharacter)
    /// A `%` (percent-encoding).
    public static let percentEncoding = NameError(.percentEncoding)
    /// A character that belongs to a URL, not a host name (`/`, `?`, `#`, `\\`).
    public static func notAHostName(character: String) -> NameError { NameError(.notAHostName(character: character)) }
    /// `*` anywhere but as the whole leftmost label.
    public static func misplacedWildcard(label: String) -> NameError { NameError(.misplacedWildcard(label: label)) }
    /// `*` alone.
    public static let bareWildcard = NameError(.bareWildcard)
    /// A wildcard where a concrete name is needed.
    public static let wildcardNotAllowed = NameError(.wildcardNotAllowed)
    /// A Host header's port that is not 1-65535.
    public static func invalidPort(_ text: String) -> NameError { NameError(.invalidPort(text)) }
    /// A port on a name that takes none.
    public static func portNotAllowed(_ text: String) -> NameError { NameError(.portNotAllowed(text)) }
    /// Refused by UTS #46 (ICU), with the reason.
    public static func idna(label: String, reason: String) -> NameError { NameError(.idna(label: label, reason: reason)) }
    /// A label that mixes scripts (UTS #39).
    public static func mixedScripts(label: String) -> NameError { NameError(.mixedScripts(label: label)) }
    /// A code point IDNA2008 does not allow (RFC 5892): symbols, emoji.
    public static func disallowedCodePoint(label: String, codePoint: UInt32) -> NameError { NameError(.disallowedCodePoint(label: label, codePoint: codePoint)) }
    /// A label in one non-Latin script that reads as a Latin name (UTS #39 whole-script confusable).
    public static func latinLookalike(label: String, imitates: String) -> NameError { NameError(.latinLookalike(label: label, imitates: imitates)) }
    /// Raw non-ASCII in a Host or SNI value, which are ASCII on the wire.
    public static let nonASCIIOnWire = NameError(.nonASCIIOnWire)
    /// A `tcp:` key without a port from 1 to 65535.
    public static func invalidTCPKey(_ text: String) -> NameError { NameError(.invalidTCPKey(text)) }
    /// An SNI name with a trailing dot (RFC 6066).
    public static let trailingDotInSNI = NameError(.trailingDotInSNI)
    /// A bare label while there are several base domains.
    public static func ambiguousLabel(label: String, baseDomains: [String]) -> NameError { NameError(.ambiguousLabel(label: label, baseDomains: baseDomains)) }

    /// The text for a person: messages and logs.
    public var description: String {
        switch kind {
        case .empty:
            return "the name is empty"
        case .tooLong(let length):
            return "the name is \(length) octets long; a host name has at most 253"
        case .emptyLabel(let name):
            return "'\(name)' has an empty label (a leading dot or two dots in a row)"
        case .labelTooLong(let label, let length):
            return "label '\(label.clipped(20))' is \(length) octets long; a label has at most 63"
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
