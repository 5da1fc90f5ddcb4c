import Testing
@testable import DomainRouter

/// One canonicalizer for registration and lookup: accepted forms and their canonical result.
@Suite("Host name canonicalization")
struct HostNameTests {
    struct Accepted: CustomTestStringConvertible, Sendable {
        var input: String
        var source: NameSource = .name
        var wildcard = false
        var expected: String
        var testDescription: String { "\(input.debugDescription) → \(expected)" }
    }

    static let accepted: [Accepted] = [
        // ASCII registration names
        .init(input: "foo.example.com", expected: "foo.example.com"),
        .init(input: "Foo.Example.COM", expected: "foo.example.com"),
        .init(input: "foo.example.com.", expected: "foo.example.com"),
        .init(input: "foo", expected: "foo"),
        .init(input: "FOO", expected: "foo"),
        .init(input: "a-b.c-d.example", expected: "a-b.c-d.example"),
        .init(input: "1foo.example.com", expected: "1foo.example.com"),
        .init(input: "123.example.com", expected: "123.example.com"),
        .init(input: "a.b.c.d.e.f.example.com", expected: "a.b.c.d.e.f.example.com"),
        .init(input: String(repeating: "a", count: 63) + ".com", expected: String(repeating: "a", count: 63) + ".com"),
        .init(input: Self.name(ofLength: 253), expected: Self.name(ofLength: 253)),
        .init(input: Self.name(ofLength: 253) + ".", expected: Self.name(ofLength: 253)),
        .init(input: "xn--bcher-kva.example", expected: "xn--bcher-kva.example"),
        .init(input: "XN--BCHER-KVA.example", expected: "xn--bcher-kva.example"),
        .init(input: "xn--e1afmkfd.xn--p1ai", expected: "xn--e1afmkfd.xn--p1ai"),
        .init(input: "a--b", expected: "a--b"),
        // Wildcards
        .init(input: "*.example.com", wildcard: true, expected: "*.example.com"),
        .init(input: "*.Foo.Example.com.", wildcard: true, expected: "*.foo.example.com"),
        .init(input: "*.bücher.example", wildcard: true, expected: "*.xn--bcher-kva.example"),
        // Host header values
        .init(input: "Foo.Example.COM:8080", source: .hostHeader, expected: "foo.example.com"),
        .init(input: "foo.example.com.", source: .hostHeader, expected: "foo.example.com"),
        .init(input: "foo.example.com.:443", source: .hostHeader, expected: "foo.example.com"),
        .init(input: "foo.example.com:1", source: .hostHeader, expected: "foo.example.com"),
        .init(input: "foo.example.com:65535", source: .hostHeader, expected: "foo.example.com"),
        .init(input: "foo.example.com", source: .hostHeader, expected: "foo.example.com"),
        .init(input: "xn--bcher-kva.example:8443", source: .hostHeader, expected: "xn--bcher-kva.example"),
        // RFC 9110 section 5.5: optional whitespace around a field value is not part of it.
        .init(input: " foo.example.com", source: .hostHeader, expected: "foo.example.com"),
        .init(input: "\tfoo.example.com:8080 \t", source: .hostHeader, expected: "foo.example.com"),
        // RFC 3986 section 3.2.3: an empty port is no port.
        .init(input: "foo.example.com:", source: .hostHeader, expected: "foo.example.com"),
        .init(input: "Foo.example.com.:", source: .hostHeader, expected: "foo.example.com"),
        // SNI values
        .init(input: "foo.example.com", source: .sni, expected: "foo.example.com"),
        .init(input: "FOO.example.com", source: .sni, expected: "foo.example.com"),
        // Unicode through UTS #46
        .init(input: "bücher.example", expected: "xn--bcher-kva.example"),
        .init(input: "BÜCHER.example", expected: "xn--bcher-kva.example"),
        .init(input: "faß.de", expected: "xn--fa-hia.de"),
        .init(input: "ＦＯＯ.example", expected: "foo.example"),
        .init(input: "ｆｏｏ．example", expected: "foo.example"),
        .init(input: "Ⅻ.example", expected: "xii.example"),
        .init(input: "ex\u{00AD}ample.com", expected: "example.com"),
        .init(input: "cafe\u{0301}.fr", expected: "xn--caf-dma.fr"),
        .init(input: "café.fr", expected: "xn--caf-dma.fr"),
        .init(input: "пример.рф", expected: "xn--e1afmkfd.xn--p1ai"),
        .init(input: "例え.jp", expected: "xn--r8jz45g.jp"),
        .init(input: "bücher。example", expected: "xn--bcher-kva.example"),
    ]

    static func name(ofLength n: Int) -> String {
        // Labels of 63 separated by dots, trimmed to exactly n octets.
        var s = ""
        while s.count < n {
            if !s.isEmpty { s += "." }
            s += String(repeating: "a", count: min(63, n - s.count))
        }
        return s
    }

    @Test("accepted forms canonicalize", arguments: accepted)
    func acceptedFormsCanonicalize(_ c: Accepted) throws {
        let result = try HostNames.canonicalize(c.input, as: c.source, allowWildcard: c.wildcard)
        #expect(result == c.expected)
    }

    struct Refused: CustomTestStringConvertible, Sendable {
        var input: String
        var source: NameSource = .name
        var wildcard = false
        var matches: @Sendable (NameError) -> Bool
        var testDescription: String { input.debugDescription }
    }

    static let refused: [Refused] = [
        .init(input: "") { $0 == .empty },
        .init(input: ".") { if case .emptyLabel = $0.kind { true } else { false } },
        .init(input: "foo..com") { if case .emptyLabel = $0.kind { true } else { false } },
        .init(input: ".foo.com") { if case .emptyLabel = $0.kind { true } else { false } },
        .init(input: "foo.com..") { if case .emptyLabel = $0.kind { true } else { false } },
        .init(input: String(repeating: "a", count: 64) + ".com") { $0 == .labelTooLong(label: String(repeating: "a", count: 64), length: 64) },
        .init(input: name(ofLength: 254)) { $0 == .tooLong(length: 254) },
        .init(input: "foo_bar.com") { $0 == .invalidCharacter(label: "foo_bar", character: "_") },
        .init(input: "foo!.com") { $0 == .invalidCharacter(label: "foo!", character: "!") },
        .init(input: "foo,bar.com") { $0 == .invalidCharacter(label: "foo,bar", character: ",") },
        .init(input: "-foo.com") { $0 == .hyphenAtEdge(label: "-foo") },
        .init(input: "foo-.com") { $0 == .hyphenAtEdge(label: "foo-") },
        .init(input: "ab--cd.com") { $0 == .hyphenAtThreeFour(label: "ab--cd") },
        .init(input: "xn--a.com") { $0 == .invalidPunycode(label: "xn--a") },
        .init(input: "xn--bcher-2pa.example") { if case .invalidPunycode = $0.kind { true } else { false } },
        .init(input: "xn--pypal-4ve.com") { if case .mixedScripts = $0.kind { true } else { false } },
        // IP literals in every form
        .init(input: "1.2.3.4") { if case .ipLiteral = $0.kind { true } else { false } },
        .init(input: "127.0.0.1", source: .hostHeader) { if case .ipLiteral = $0.kind { true } else { false } },
        .init(input: "127.0.0.1:80", source: .hostHeader) { if case .ipLiteral = $0.kind { true } else { false } },
        .init(input: "192.168.0.1", source: .sni) { if case .ipLiteral = $0.kind { true } else { false } },
        .init(input: "2130706433", source: .hostHeader) { if case .ipLiteral = $0.kind { true } else { false } },
        .init(input: "0x7f.1", source: .hostHeader) { if case .ipLiteral = $0.kind { true } else { false } },
        .init(input: "0177.0.0.1", source: .hostHeader) { if case .ipLiteral = $0.kind { true } else { false } },
        .init(input: "0x7f000001", source: .hostHeader) { if case .ipLiteral = $0.kind { true } else { false } },
        .init(input: "1.2.3.0x4", source: .hostHeader) { if case .ipLiteral = $0.kind { true } else { false } },
        .init(input: "foo.123") { if case .ipLiteral = $0.kind { true } else { false } },
        .init(input: "[::1]:443", source: .hostHeader) { if case .ipLiteral = $0.kind { true } else { false } },
        .init(input: "[::1]", source: .hostHeader) { if case .ipLiteral = $0.kind { true } else { false } },
        .init(input: "::1", source: .hostHeader) { if case .ipLiteral = $0.kind { true } else { false } },
        .init(input: "fe80::1%eth0", source: .hostHeader) { if case .percentEncoding = $0.kind { true } else { false } },
        .init(input: "[fe80::1]:8080", source: .sni) { if case .ipLiteral = $0.kind { true } else { false } },
        // URL parts, userinfo, encodings, whitespace and control characters
        .init(input: "a@b") { $0 == .userinfo },
        .init(input: "user:pass@host.com", source: .hostHeader) { $0 == .userinfo },
        .init(input: "foo%2ecom") { $0 == .percentEncoding },
        .init(input: "%66oo.com", source: .hostHeader) { $0 == .percentEncoding },
        .init(input: "http://foo.com") { $0 == .notAHostName(character: "/") },
        .init(input: "foo.com/path", source: .hostHeader) { $0 == .notAHostName(character: "/") },
        .init(input: "foo.com?x=1", source: .hostHeader) { $0 == .notAHostName(character: "?") },
        .init(input: "foo.com#frag") { $0 == .notAHostName(character: "#") },
        .init(input: "foo\\bar.com") { $0 == .notAHostName(character: "\\") },
        .init(input: "foo bar.com") { $0 == .whitespace },
        .init(input: " foo.com", source: .sni) { $0 == .whitespace },
        .init(input: "foo .com", source: .hostHeader) { $0 == .whitespace },
        .init(input: "foo.com\t") { $0 == .whitespace },
        .init(input: "foo.com\n", source: .sni) { $0 == .whitespace },
        .init(input: "foo.com\r\n", source: .hostHeader) { $0 == .whitespace },
        .init(input: "foo\u{3000}bar.com") { $0 == .whitespace },
        .init(input: "foo\u{00A0}bar.com") { $0 == .whitespace },
        .init(input: "exa\u{2028}mple.com") { $0 == .whitespace },
        .init(input: "foo\u{0}.com") { $0 == .controlCharacter },
        .init(input: "\u{7}foo.com") { $0 == .controlCharacter },
        .init(input: "foo\u{7F}.com") { $0 == .controlCharacter },
        .init(input: "foo\u{85}.com") { $0 == .whitespace || $0 == .controlCharacter },
        // Wildcards out of place
        .init(input: "*") { $0 == .bareWildcard },
        .init(input: "*", wildcard: true) { $0 == .bareWildcard },
        .init(input: "*.", wildcard: true) { $0 == .bareWildcard },
        .init(input: "foo.*.com", wildcard: true) { $0 == .misplacedWildcard(label: "*") },
        .init(input: "f*o.com", wildcard: true) { $0 == .misplacedWildcard(label: "f*o") },
        .init(input: "*foo.com", wildcard: true) { $0 == .misplacedWildcard(label: "*foo") },
        .init(input: "**.example.com", wildcard: true) { $0 == .misplacedWildcard(label: "**") },
        .init(input: "foo.com.*", wildcard: true) { $0 == .misplacedWildcard(label: "*") },
        .init(input: "*.example.com") { $0 == .wildcardNotAllowed },
        .init(input: "*.example.com", source: .hostHeader) { $0 == .wildcardNotAllowed },
        // Ports
        .init(input: "foo.example.com:0", source: .hostHeader) { $0 == .invalidPort("0") },
        .init(input: "foo.example.com:65536", source: .hostHeader) { $0 == .invalidPort("65536") },
        .init(input: "foo.example.com:abc", source: .hostHeader) { $0 == .invalidPort("abc") },
        .init(input: "foo.example.com:", source: .sni) { $0 == .portNotAllowed("") },
        .init(input: "foo.example.com:080808", source: .hostHeader) { $0 == .invalidPort("080808") },
        .init(input: "foo.example.com:-1", source: .hostHeader) { $0 == .invalidPort("-1") },
        .init(input: "foo.example.com:8080") { $0 == .portNotAllowed("8080") },
        .init(input: "foo.example.com:443", source: .sni) { $0 == .portNotAllowed("443") },
        // Unicode refused by UTS #46 or UTS #39
        .init(input: "pаypal.com") { $0 == .mixedScripts(label: "pаypal") },
        .init(input: "аpple.com", source: .hostHeader) { $0 == .nonASCIIOnWire },
        // Host and SNI values are ASCII on the wire; clients send A-labels.
        .init(input: "bücher.example:8443", source: .hostHeader) { $0 == .nonASCIIOnWire },
        .init(input: "bücher.example", source: .sni) { $0 == .nonASCIIOnWire },
        // RFC 6066 section 3: an SNI has no trailing dot.
        .init(input: "foo.example.com.", source: .sni) { $0 == .trailingDotInSNI },
        // IDNA2008 (RFC 5892): symbols and emoji are DISALLOWED, as U-labels and as A-labels.
        .init(input: "i\u{2665}ny.example") { $0 == .disallowedCodePoint(label: "i\u{2665}ny", codePoint: 0x2665) },
        .init(input: "xn--iny-zx5a.example") { $0 == .disallowedCodePoint(label: "i\u{2665}ny", codePoint: 0x2665) },
        .init(input: "\u{1F600}.example") { $0 == .disallowedCodePoint(label: "\u{1F600}", codePoint: 0x1F600) },
        .init(input: "xn--e28h.example") { $0 == .disallowedCodePoint(label: "\u{1F600}", codePoint: 0x1F600) },
        .init(input: "a\u{2600}b.example") { $0 == .disallowedCodePoint(label: "a\u{2600}b", codePoint: 0x2600) },
        // UTS #39 whole-script confusables: one non-Latin script spelling a Latin name.
        .init(input: "\u{0440}\u{0430}\u{0443}.example") { $0 == .latinLookalike(label: "\u{0440}\u{0430}\u{0443}", imitates: "pay") },
        .init(input: "xn--80a5ak.example") { if case .latinLookalike(_, "pay") = $0.kind { true } else { false } },
        .init(input: "\u{0441}\u{043E}\u{0440}\u{0435}.example") { if case .latinLookalike = $0.kind { true } else { false } },
        .init(input: "bücher\u{200D}.de") {
            if case .idna(_, let reason) = $0.kind { reason.contains("zero-width") } else { false }
        },
        .init(input: "ab\u{05D0}.com") {
            if case .idna(_, let reason) = $0.kind { reason.contains("Bidi") } else { false }
        },
        .init(input: "\u{0301}abc.com") {
            if case .idna(_, let reason) = $0.kind { reason.contains("combining") } else { false }
        },
        .init(input: "foo\u{FF3F}bar.com") { if case .idna = $0.kind { true } else { false } },
        .init(input: "ÿ" + String(repeating: "a", count: 63) + ".com") { if case .labelTooLong = $0.kind { true } else { false } },
    ]

    @Test("refused forms name the rule they break", arguments: refused)
    func refusedFormsNameTheRule(_ c: Refused) {
        do {
            let result = try HostNames.canonicalize(c.input, as: c.source, allowWildcard: c.wildcard)
            Issue.record("accepted \(c.input.debugDescription) as \(result)")
        } catch {
            #expect(c.matches(error), "got \(error)")
            #expect(!error.description.isEmpty)
        }
    }

    @Test func errorMessagesNameTheOffendingLabel() {
        #expect(throws: NameError.self) { try HostNames.canonicalize("good.bad_label.com") }
        do {
            _ = try HostNames.canonicalize("good.bad_label.com")
        } catch {
            #expect(error.description.contains("bad_label"))
            #expect(error.description.contains("RFC 1123"))
        }
    }

    @Test func lookupsSkipPunycodeValidation() throws {
        // A bad A-label cannot be registered, so a lookup need not decode it.
        #expect(try HostNames.canonicalize("xn--a.com", as: .hostHeader, validateIDN: false) == "xn--a.com")
    }

    @Test func unicodeFormIsShownForALabels() {
        #expect(HostNames.unicode("xn--bcher-kva.example") == "bücher.example")
        #expect(HostNames.unicode("plain.example") == nil)
    }
}

/// The lookup fast path must agree with the full canonicalizer wherever it answers.
@Suite("Lookup fast path")
struct FastPathTests {
    static func fast(_ input: String, _ source: NameSource) -> String? {
        var input = input
        return input.withUTF8 { bytes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 300) { out in
                HostNames.fastCanonical(bytes, source: source, into: out.baseAddress!).map {
                    String(decoding: UnsafeBufferPointer(start: out.baseAddress!, count: $0.count), as: UTF8.self)
                }
            }
        }
    }

    @Test func agreesWithTheCanonicalizerOnTheNameCases() {
        let inputs = HostNameTests.accepted.map(\.input) + HostNameTests.refused.map(\.input)
        for input in inputs {
            for source in [NameSource.hostHeader, .sni, .name] {
                guard let fast = Self.fast(input, source) else { continue }
                #expect((try? HostNames.canonicalize(input, as: source, validateIDN: false)) == fast, "\(input.debugDescription)")
            }
        }
    }

    @Test func keyFastPathAgreesWithTheFullKeyCanonicalizer() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("aZ09-.:x-..0123456789abcdefABCDEF*_ n")
        var inputs = HostNameTests.accepted.map(\.input) + HostNameTests.refused.map(\.input)
        for _ in 0..<30_000 {
            let length = Int.random(in: 1...20, using: &rng)
            inputs.append(String((0..<length).map { _ in alphabet.randomElement(using: &rng)! }))
        }
        var answered = 0
        for input in inputs {
            guard let fast = RouteTable.fastKeyName(input) else { continue }
            answered += 1
            let full = try? HostNames.canonicalize(input, as: .name, allowWildcard: true, validateIDN: true, checkIPLiteral: false)
            #expect(full == fast, "\(input.debugDescription)")
        }
        #expect(answered > 1000)
    }

    @Test func agreesWithTheCanonicalizerOnRandomInput() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("aZ09-.:x-..0123456789abcdefABCDEF*_ ")
        var answered = 0
        for _ in 0..<50_000 {
            let length = Int.random(in: 1...20, using: &rng)
            let input = String((0..<length).map { _ in alphabet.randomElement(using: &rng)! })
            for source in [NameSource.hostHeader, .sni] {
                let fast = Self.fast(input, source)
                let full = try? HostNames.canonicalize(input, as: source, validateIDN: false)
                if let fast {
                    answered += 1
                    #expect(full == fast, "\(input.debugDescription)")
                }
            }
        }
        #expect(answered > 1000)
    }

    @Test func reportsWhetherTheInputChanged() {
        var input = "Foo.example.com:80"
        let changed = input.withUTF8 { bytes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 300) { out in
                HostNames.fastCanonical(bytes, source: .hostHeader, into: out.baseAddress!)?.changed
            }
        }
        #expect(changed == true)
        var plain = "foo.example.com"
        let unchanged = plain.withUTF8 { bytes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 300) { out in
                HostNames.fastCanonical(bytes, source: .hostHeader, into: out.baseAddress!)?.changed
            }
        }
        #expect(unchanged == false)
    }
}
