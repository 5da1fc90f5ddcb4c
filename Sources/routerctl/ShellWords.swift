/// Splits a command line into words the way a POSIX shell quotes them: 'single quotes' are
/// literal, "double quotes" allow \" \\ \$ \` escapes, a backslash outside quotes escapes the
/// next character, and an unquoted # at the start of a word begins a comment. No expansion.
/// Hand-written: none of the reachable packages tokenizes shell words.
enum ShellWords {
    /// The words of a line with no quote, backslash or comment in it, split at blanks; nil
    /// for any other line, which `split` reads character by character.
    static func plainWords(_ line: String) -> [String]? {
        var words: [String] = []
        var start: String.UTF8View.Index?
        let utf8 = line.utf8
        var i = utf8.startIndex
        while i < utf8.endIndex {
            switch utf8[i] {
            case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "#"):
                return nil
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                if let begun = start { words.append(String(line[begun..<i])); start = nil }
            default:
                if start == nil { start = i }
            }
            i = utf8.index(after: i)
        }
        if let begun = start { words.append(String(line[begun..<utf8.endIndex])) }
        return words
    }

    struct UnterminatedQuote: Error, CustomStringConvertible {
        var quote: Character
        var description: String { "unterminated \(quote) quote" }
    }

    static func split(_ line: String) throws(UnterminatedQuote) -> [String] {
        // Most lines (a batch's thousands) quote nothing: words between spaces, read as bytes.
        if let plain = plainWords(line) { return plain }
        var words: [String] = []
        var current = ""
        var inWord = false
        var chars = line.makeIterator()
        while let c = chars.next() {
            switch c {
            case " ", "\t", "\r", "\n":
                if inWord { words.append(current); current = ""; inWord = false }
            case "#" where !inWord:
                return words
            case "'":
                inWord = true
                var closed = false
                while let q = chars.next() {
                    if q == "'" { closed = true; break }
                    current.append(q)
                }
                if !closed { throw UnterminatedQuote(quote: "'") }
            case "\"":
                inWord = true
                var closed = false
                while let q = chars.next() {
                    if q == "\"" { closed = true; break }
                    if q == "\\", let next = chars.next() {
                        if !["\"", "\\", "$", "`"].contains(next) { current.append("\\") }
                        current.append(next)
                        continue
                    }
                    current.append(q)
                }
                if !closed { throw UnterminatedQuote(quote: "\"") }
            case "\\":
                inWord = true
                if let next = chars.next() { current.append(next) }
            default:
                inWord = true
                current.append(c)
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// Quotes a word for display so that `split` reads it back.
    static func quote(_ word: String) -> String {
        let safe = word.unicodeScalars.allSatisfy { s in
            (s.value >= 0x30 && s.value <= 0x39) || (s.value >= 0x41 && s.value <= 0x5A) || (s.value >= 0x61 && s.value <= 0x7A)
                || "-_./:=@,+%".unicodeScalars.contains(s)
        }
        if safe && !word.isEmpty { return word }
        return "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
