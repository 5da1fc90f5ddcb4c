import NIOCore
@testable import RouterRedis
import RouterTestSupport
import Testing

/// The RESP2 reply parser on its own: every type, incomplete input, and input that is not RESP.
@Suite("RESP2 reply parser")
struct RESPParserTests {
    let parser = RESPParser()

    func parse(_ text: String) throws(RESPError) -> RESPValue { try parser.parse(Array(text.utf8)) }

    @Test func readsEveryType() throws {
        #expect(try parse("+OK\r\n") == .simpleString("OK"))
        #expect(try parse("-NOSCRIPT No matching script\r\n") == .error("NOSCRIPT No matching script"))
        #expect(try parse(":-42\r\n") == .integer(-42))
        #expect(try parse("$3\r\nfoo\r\n") == .bulkString(Array("foo".utf8)))
        #expect(try parse("$0\r\n\r\n") == .bulkString([]))
        #expect(try parse("$-1\r\n") == .bulkString(nil))
        #expect(try parse("*-1\r\n") == .array(nil))
        #expect(try parse("*0\r\n") == .array([]))
        #expect(try parse("*2\r\n$1\r\na\r\n*1\r\n:1\r\n") == .array([.bulkString([97]), .array([.integer(1)])]))
    }

    @Test func bulkStringsAreBinarySafe() throws {
        let bytes: [UInt8] = Array("$4\r\n".utf8) + [0x0D, 0x0A, 0x00, 0xFF] + [0x0D, 0x0A]
        #expect(try parser.parse(bytes) == .bulkString([0x0D, 0x0A, 0x00, 0xFF]))
    }

    @Test(arguments: ["", "+OK", "+OK\r", ":1", "$3\r\nfo", "$3\r\nfoo", "$3\r\nfoo\r", "*2\r\n:1\r\n", "*1\r\n$2\r\nab"])
    func anIncompleteReplyAsksForMore(_ text: String) throws {
        let result = try Array(text.utf8).withUnsafeBytes { try parser.parse($0) }
        #expect(result == nil, "\(text.debugDescription) is only the start of a reply")
    }

    @Test(arguments: [
        ("?1\r\n", "unknown reply type"),
        (":x\r\n", "not an integer"),
        (":\r\n", "not an integer"),
        ("$-2\r\n", "bulk string length -2"),
        ("$abc\r\n", "not an integer"),
        ("$3\r\nfooXY", "not followed by CRLF"),
        ("*-5\r\n", "array length -5"),
        ("+OK\rX", "CR not followed by LF"),
        ("+OK\n", "LF without CR"),
        ("$99999999999999999999999\r\n", "not an integer"),
    ])
    func malformedInputIsRefusedNamingTheProblem(_ input: (String, String)) {
        do {
            let value = try parse(input.0)
            Issue.record("accepted \(input.0.debugDescription) as \(value)")
        } catch {
            #expect(error.description.contains(input.1), "\(input.0.debugDescription): \(error)")
        }
    }

    @Test func limitsBoundNestingAndSizes() {
        var tight = RESPParser()
        tight.maximumDepth = 3
        tight.maximumBulkLength = 10
        tight.maximumArrayLength = 5
        #expect(throws: RESPError.self) { try tight.parse(Array("*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n".utf8)) }
        #expect(throws: RESPError.self) { try tight.parse(Array("$11\r\nhello world\r\n".utf8)) }
        #expect(throws: RESPError.self) { try tight.parse(Array("*6\r\n".utf8)) }
        #expect((try? tight.parse(Array("*1\r\n*1\r\n*1\r\n:1\r\n".utf8))) != nil)
    }

    @Test func aWholeReplyMayNotCarryTrailingBytes() {
        #expect(throws: RESPError.self) { try parse("+OK\r\n+OK\r\n") }
    }

    @Test func partialParsesReportWhatTheyConsumed() throws {
        let bytes = Array("+OK\r\n:7\r\n".utf8)
        let first = try bytes.withUnsafeBytes { try parser.parse($0) }
        #expect(first?.value == .simpleString("OK") && first?.consumed == 5)
    }
}

/// The scanner that says where a reply ends, resumed read after read: it must agree with the
/// parser on every reply, however the bytes are split, and refuse what the parser refuses.
@Suite("RESP2 reply scanner")
struct RESPReplyScannerTests {
    static let replies = [
        "+OK\r\n", "-ERR no\r\n", ":-42\r\n", "$3\r\nfoo\r\n", "$0\r\n\r\n", "$-1\r\n", "*-1\r\n", "*0\r\n",
        "*2\r\n$1\r\na\r\n*1\r\n:1\r\n",
        // An XREAD reply: [[stream, [[id, [k, v, r, v]], …]]].
        "*1\r\n*2\r\n$3\r\nlog\r\n*2\r\n*2\r\n$3\r\n7-0\r\n*4\r\n$1\r\nk\r\n$3\r\nadd\r\n$1\r\nr\r\n$4\r\n{\r\n}\r\n"
            + "*2\r\n$3\r\n8-0\r\n*0\r\n",
        "*3\r\n*0\r\n*-1\r\n$-1\r\n",
    ]

    @Test(arguments: replies)
    func aReplySplitAnywhereEndsWhereTheParserSays(_ reply: String) throws {
        let bytes = Array(reply.utf8) + Array("+NEXT\r\n".utf8)
        let whole = try #require(try bytes.withUnsafeBytes { try RESPParser().parse($0) })
        // Fed a byte more each time, as reads would bring them.
        var scanner = RESPReplyScanner(limits: RESPParser())
        var found: Int?
        for end in 1...bytes.count where found == nil {
            found = try bytes.withUnsafeBytes { try scanner.replyLength(in: UnsafeRawBufferPointer(rebasing: $0[..<end])) }
            if found == nil { #expect(end < whole.consumed, "\(reply.debugDescription) not found whole at \(end) bytes") }
        }
        #expect(found == whole.consumed, "\(reply.debugDescription)")
        // And it goes on to the next reply.
        let next = try bytes.withUnsafeBytes { try scanner.replyLength(in: UnsafeRawBufferPointer(rebasing: $0[whole.consumed...])) }
        #expect(next == 7)
    }

    /// Random replies (seeded), nested as Redis nests them, delivered in random pieces: the
    /// scanner finds each whole exactly when its last byte arrives, and it parses to the value
    /// that was written.
    @Test func randomRepliesInRandomPiecesAreFoundWholeWhenTheirLastByteArrives() throws {
        var random = SplitMix64(state: 20261206)
        func value(depth: Int) -> RESPValue {
            switch Int.random(in: 0..<(depth < 4 ? 7 : 5), using: &random) {
            case 0: return .simpleString(String(repeating: "x", count: Int.random(in: 0..<8, using: &random)))
            case 1: return .error("ERR " + String(Int.random(in: 0..<1000, using: &random)))
            case 2: return .integer(Int64.random(in: -1_000_000...1_000_000, using: &random))
            case 3: return .bulkString((0..<Int.random(in: 0..<300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
            case 4: return Bool.random(using: &random) ? .bulkString(nil) : .array(nil)
            default: return .array((0..<Int.random(in: 0..<6, using: &random)).map { _ in value(depth: depth + 1) })
            }
        }
        func encode(_ value: RESPValue) -> [UInt8] {
            switch value {
            case .simpleString(let s): return Array("+\(s)\r\n".utf8)
            case .error(let s): return Array("-\(s)\r\n".utf8)
            case .integer(let n): return Array(":\(n)\r\n".utf8)
            case .bulkString(nil): return Array("$-1\r\n".utf8)
            case .bulkString(let bytes?): return Array("$\(bytes.count)\r\n".utf8) + bytes + [13, 10]
            case .array(nil): return Array("*-1\r\n".utf8)
            case .array(let values?): return Array("*\(values.count)\r\n".utf8) + values.flatMap(encode)
            }
        }
        for _ in 0..<300 {
            let replies = (0..<3).map { _ in value(depth: 0) }
            let stream = replies.flatMap(encode)
            var ends = replies.map { encode($0).count }
            for i in 1..<ends.count { ends[i] += ends[i - 1] }
            var scanner = RESPReplyScanner(limits: RESPParser())
            var start = 0
            var arrived = 0
            var found: [Int] = []
            while arrived < stream.count {
                arrived = min(stream.count, arrived + Int.random(in: 1...64, using: &random))
                while let length = try stream.withUnsafeBytes({ try scanner.replyLength(in: UnsafeRawBufferPointer(rebasing: $0[start..<arrived])) }) {
                    let parsed = try RESPParser().parse(Array(stream[start..<(start + length)]))
                    #expect(parsed == replies[found.count])
                    start += length
                    found.append(start)
                    #expect(arrived >= start)
                }
            }
            #expect(found == ends)
        }
    }

    @Test(arguments: ["?1\r\n", ":x\r\n", "$-2\r\n", "$3\r\nfooXY", "*-5\r\n", "+OK\rX", "+OK\n", "*1\r\n$abc\r\n"])
    func whatTheParserRefusesTheScannerRefuses(_ text: String) {
        var scanner = RESPReplyScanner(limits: RESPParser())
        #expect(throws: RESPError.self) { try Array(text.utf8).withUnsafeBytes { try scanner.replyLength(in: $0) } }
    }

    @Test func theParsersLimitsHold() {
        var tight = RESPParser()
        tight.maximumDepth = 3
        tight.maximumBulkLength = 10
        tight.maximumArrayLength = 5
        func length(_ text: String) throws -> Int? {
            var scanner = RESPReplyScanner(limits: tight)
            return try Array(text.utf8).withUnsafeBytes { try scanner.replyLength(in: $0) }
        }
        #expect(throws: RESPError.self) { try length("*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n") }
        #expect(throws: RESPError.self) { try length("$11\r\nhello world\r\n") }
        #expect(throws: RESPError.self) { try length("*6\r\n") }
        #expect((try? length("*1\r\n*1\r\n*1\r\n:1\r\n")) == 16)
    }
}

@Suite("RESP2 command encoding")
struct RESPEncoderTests {
    @Test func commandsAreArraysOfBulkStringsWithTheirByteLengths() {
        var buffer = ByteBuffer()
        let long = String(repeating: "x", count: 1234)
        RESPEncoder.command(["SET", "ü", "", long], into: &buffer)
        #expect(buffer.readString(length: buffer.readableBytes) == "*4\r\n$3\r\nSET\r\n$2\r\nü\r\n$0\r\n\r\n$1234\r\n\(long)\r\n")
        var bytes = ByteBuffer()
        RESPEncoder.command([Array("GET".utf8), Array(repeating: 0x61, count: 10)], into: &bytes)
        #expect(bytes.readString(length: bytes.readableBytes) == "*2\r\n$3\r\nGET\r\n$10\r\naaaaaaaaaa\r\n")
    }

    @Test func scriptArgumentsAreBulkStringsOfTextBytesAndDecimalNumbers() {
        var arguments = RedisScriptArguments(keys: ["{t}:id"], capacity: 16)
        arguments.append("ü")
        for number in [0, 9, 10, 12_345, Int.max] { arguments.append(number) }
        Array("a\r\nb".utf8).withUnsafeBytes { arguments.append(bytes: $0) }
        #expect(arguments.keyCount == 1 && arguments.count == 8)
        var buffer = arguments.buffer
        #expect(buffer.readString(length: buffer.readableBytes) ==
            "$6\r\n{t}:id\r\n$2\r\nü\r\n$1\r\n0\r\n$1\r\n9\r\n$2\r\n10\r\n$5\r\n12345\r\n$19\r\n\(Int.max)\r\n$4\r\na\r\nb\r\n")
    }
}
