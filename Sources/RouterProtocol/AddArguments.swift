#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An `add` request's arguments, typed (see the `add` entry of `Operations`).
package struct AddArguments: Equatable, Sendable {
    package var key: String?
    package var random = false
    package var domain: String?
    package var tunnel: String?
    package var target: String?
    /// Seconds, as given.
    package var ttl: Double?
    package var session = false
    package var replace = false
    package var labels: [String: String] = [:]
    /// Address blocks, as given (checked by the executor).
    package var allow: [String] = []
    package var deny: [String] = []
    package var owner: String?

    package init() {}

    /// The arguments of a validated `add` request.
    package init(_ request: Request) {
        key = request.string("key")
        random = request.bool("random")
        domain = request.string("domain")
        tunnel = request.string("tunnel")
        target = request.string("target")
        ttl = request.number("ttl")
        session = request.bool("session")
        replace = request.bool("replace")
        if case .object(let members)? = request.arguments["labels"] {
            for (name, value) in members { labels[name] = value.stringValue ?? "" }
        }
        if case .array(let blocks)? = request.arguments["allow"] { allow = blocks.map { $0.stringValue ?? "" } }
        if case .array(let blocks)? = request.arguments["deny"] { deny = blocks.map { $0.stringValue ?? "" } }
        owner = request.string("owner")
    }
}

// MARK: - The flat add line
//
// Bulk loads are lines like {"id":7,"op":"add","key":"foo","tunnel":"t1"}. Reading them into a
// JSON tree, checking that against the operation's spec and reading the arguments back out of
// it took more of the event loop than everything else an add costs there. This reader takes
// that one shape straight from the bytes: a minified object of known add fields whose values are
// ASCII strings without escapes, integers, plain decimals or booleans, each field once. For
// anything else it returns nil and `Request.parse` reads the line in full, with its errors; for
// what it accepts, both give the same id and arguments (a test checks this on generated lines).
// Hand-written: no JSON package reachable here reads into a fixed struct without a tree.

extension AddArguments {
    /// Reads a line of the flat add shape; nil for any other line (see above).
    package static func parseLine(_ line: UnsafeBufferPointer<UInt8>) -> (id: RequestID?, arguments: AddArguments)? {
        var reader = FlatAddReader(line)
        return reader.read()
    }
}

struct FlatAddReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var at = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    enum Field: UInt16 {
        case id = 1, op = 2, key = 4, random = 8, domain = 16, tunnel = 32, target = 64, ttl = 128
        case session = 256, replace = 512, owner = 1024
    }

    mutating func read() -> (id: RequestID?, arguments: AddArguments)? {
        let end = bytes.count - 1
        guard end >= 1, bytes[0] == UInt8(ascii: "{"), bytes[end] == UInt8(ascii: "}") else { return nil }
        at = 1
        var seen: UInt16 = 0
        var id: RequestID?
        var arguments = AddArguments()
        while true {
            guard let name = stringRange(), at < end, bytes[at] == UInt8(ascii: ":"), let field = field(name) else { return nil }
            guard seen & field.rawValue == 0 else { return nil }
            seen |= field.rawValue
            at += 1
            switch field {
            case .id:
                if at < end && bytes[at] == UInt8(ascii: "\"") {
                    guard let s = string() else { return nil }
                    id = .string(s)
                } else {
                    guard let digits = integer() else { return nil }
                    id = .number(digits)
                }
            case .op:
                guard let range = stringRange(), equals(range, "add") else { return nil }
            case .key: guard let s = string() else { return nil }; arguments.key = s
            case .domain: guard let s = string() else { return nil }; arguments.domain = s
            case .tunnel: guard let s = string() else { return nil }; arguments.tunnel = s
            case .target: guard let s = string() else { return nil }; arguments.target = s
            case .owner: guard let s = string() else { return nil }; arguments.owner = s
            case .random: guard let b = boolean() else { return nil }; arguments.random = b
            case .session: guard let b = boolean() else { return nil }; arguments.session = b
            case .replace: guard let b = boolean() else { return nil }; arguments.replace = b
            case .ttl: guard let n = decimal() else { return nil }; arguments.ttl = n
            }
            if at == end { break }
            guard at < end, bytes[at] == UInt8(ascii: ",") else { return nil }
            at += 1
        }
        guard seen & Field.op.rawValue != 0 else { return nil }
        return (id, arguments)
    }

    /// The bytes of a string without escapes or non-ASCII characters; moves past its quote.
    mutating func stringRange() -> Range<Int>? {
        guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { return nil }
        let start = at + 1
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                at = i + 1
                return start..<i
            }
            guard b >= 0x20, b < 0x7F, b != UInt8(ascii: "\\") else { return nil }
            i += 1
        }
        return nil
    }

    mutating func string() -> String? {
        guard let range = stringRange() else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    func equals(_ range: Range<Int>, _ text: StaticString) -> Bool {
        range.count == text.utf8CodeUnitCount && memcmp(bytes.baseAddress! + range.lowerBound, text.utf8Start, range.count) == 0
    }

    func field(_ name: Range<Int>) -> Field? {
        switch name.count {
        case 2: return equals(name, "id") ? .id : equals(name, "op") ? .op : nil
        case 3: return equals(name, "key") ? .key : equals(name, "ttl") ? .ttl : nil
        case 5: return equals(name, "owner") ? .owner : nil
        case 6:
            return equals(name, "random") ? .random : equals(name, "domain") ? .domain
                : equals(name, "tunnel") ? .tunnel : equals(name, "target") ? .target : nil
        case 7: return equals(name, "session") ? .session : equals(name, "replace") ? .replace : nil
        default: return nil
        }
    }

    mutating func boolean() -> Bool? {
        if skip("true") { return true }
        if skip("false") { return false }
        return nil
    }

    /// Moves past `text` when the bytes at the reading position are exactly it.
    mutating func skip(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard at + count <= bytes.count, memcmp(bytes.baseAddress! + at, text.utf8Start, count) == 0 else { return false }
        at += count
        return true
    }

    /// Digits without a leading zero (or a lone 0), up to 15 of them: well within 2^53.
    mutating func integer() -> String? {
        let start = at
        while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") { at += 1 }
        let count = at - start
        guard count >= 1, count <= 15, count == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
    }

    /// A JSON number without exponent: -?(0|[1-9][0-9]*)(.[0-9]+)?, up to 24 characters.
    mutating func decimal() -> Double? {
        let start = at
        if at < bytes.count, bytes[at] == UInt8(ascii: "-") { at += 1 }
        let digitsStart = at
        func digits() -> Int {
            let from = at
            while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") { at += 1 }
            return at - from
        }
        let whole = digits()
        guard whole >= 1, whole == 1 || bytes[digitsStart] != UInt8(ascii: "0") else { return nil }
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            at += 1
            guard digits() >= 1 else { return nil }
        }
        guard at - start <= 24 else { return nil }
        return Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self))
    }
}
