import CIDNA

/// The Unicode path, in ICU behind the `CIDNA` target: UTS #46 mapping, IDNA2008 code points
/// (RFC 5892), UTS #39 mixed-script and whole-script checks, and the errors they give.
extension HostNames {
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
