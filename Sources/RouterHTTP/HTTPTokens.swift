#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DomainRouter

/// The HTTP API's bearer tokens, from the file `--http-tokens` names: one token a line,
/// `PRINCIPAL TOKEN [admin]`, blank lines and `#` comments skipped. The file must not be
/// readable by group or others (the tokens are passwords). Tokens are compared in constant
/// time, each against every known token, so that timing tells nothing about any of them.
public struct HTTPTokens: Sendable {
    struct Entry: Sendable {
        var principal: Principal
        var token: [UInt8]
    }

    let entries: [Entry]
    /// Where the tokens came from.
    public let path: String

    /// Reads and checks the file; throws an error naming the problem (and the line) otherwise.
    public init(path: String) throws(HTTPTokensError) {
        self.path = path
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw HTTPTokensError("cannot read the token file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            let mode = String(info.st_mode & 0o777, radix: 8)
            throw HTTPTokensError("the token file \(path) is readable by group or others (mode 0\(mode)); chmod 600 it")
        }
        guard let file = fopen(path, "r") else {
            throw HTTPTokensError("cannot read the token file \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            text += chunk[..<n]
        }
        entries = try Self.parse(String(decoding: text, as: UTF8.self), path: path)
    }

    /// Tokens from text (the file's content), for tests.
    init(text: String, path: String = "-") throws(HTTPTokensError) {
        self.path = path
        entries = try Self.parse(text, path: path)
    }

    static func parse(_ text: String, path: String) throws(HTTPTokensError) -> [Entry] {
        var entries: [Entry] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty { continue }
            let number = index + 1
            guard words.count == 2 || words.count == 3 else {
                throw HTTPTokensError("\(path) line \(number): expected PRINCIPAL TOKEN [admin], got \(words.count) words")
            }
            if words.count == 3 && words[2] != "admin" {
                throw HTTPTokensError("\(path) line \(number): the third word may only be 'admin', not '\(words[2].clipped(20))'")
            }
            let name = String(words[0])
            guard name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw HTTPTokensError("\(path) line \(number): the principal must be printable ASCII")
            }
            let token = Array(words[1].utf8)
            guard token.count >= 16 else {
                throw HTTPTokensError("\(path) line \(number): the token for \(name) is \(token.count) characters; use at least 16 (e.g. openssl rand -hex 24)")
            }
            if entries.contains(where: { $0.token == token }) {
                throw HTTPTokensError("\(path) line \(number): this token is already given to another principal")
            }
            entries.append(Entry(principal: words.count == 3 ? .admin(name) : .user(name), token: token))
        }
        return entries
    }

    /// The principal a presented token stands for, or nil. Every known token is compared in
    /// full, whether or not an earlier one matched.
    public func principal(for presented: some Collection<UInt8>) -> Principal? {
        let given = Array(presented)
        var found: Principal?
        for entry in entries {
            var difference = UInt8(truncatingIfNeeded: entry.token.count ^ given.count)
            for i in 0..<entry.token.count {
                difference |= entry.token[i] ^ (i < given.count ? given[i] : 0)
            }
            if difference == 0 { found = entry.principal }
        }
        return found
    }

    /// How many tokens the file holds.
    public var count: Int { entries.count }
}

/// Why a token file was refused; the message names the file, and the line where there is one.
public struct HTTPTokensError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
