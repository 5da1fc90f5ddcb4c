import Foundation
import Testing
@testable import RouterProtocol

@Suite("JSON codec")
struct JSONTests {
    static let suiteDirectory: String = {
        // Vendored into the repository (Tests/TestData, MIT; see its README and LICENSE).
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TestData/jsontestsuite/test_parsing").path
    }()

    static func cases(prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: suiteDirectory)) ?? [])
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted()
    }

    static func parse(_ file: String) -> Result<JSONValue, JSONError> {
        let data = FileManager.default.contents(atPath: suiteDirectory + "/" + file) ?? Data()
        return data.withUnsafeBytes { raw in
            do throws(JSONError) {
                return .success(try JSONParser.parse(raw.bindMemory(to: UInt8.self)))
            } catch {
                return .failure(error)
            }
        }
    }

    @Test func suiteIsPresent() {
        #expect(Self.cases(prefix: "y_").count > 50, "JSONTestSuite not found at \(Self.suiteDirectory)")
    }

    /// Valid JSON that routerd refuses by choice: an object naming a member twice (RFC 8259
    /// says names SHOULD be unique; I-JSON, RFC 7493, says MUST). Which of the two wins differs
    /// from one parser to the next, so a request could mean one thing to routerd and another
    /// to whatever logged or checked it first.
    static let refusedByChoice: Set<String> = ["y_object_duplicated_key.json", "y_object_duplicated_key_and_value.json"]

    @Test("accepts every y_ case", arguments: cases(prefix: "y_").filter { !refusedByChoice.contains($0) })
    func acceptsValidJSON(_ file: String) {
        if case .failure(let error) = Self.parse(file) { Issue.record("\(file): \(error)") }
    }

    @Test("refuses an object that names a member twice, naming it", arguments: refusedByChoice.sorted())
    func refusesDuplicateMemberNames(_ file: String) {
        guard case .failure(let error) = Self.parse(file) else {
            Issue.record("\(file) was accepted")
            return
        }
        #expect(error.message == #"the member name "a" appears twice in one object"#, "\(error)")
    }

    @Test func aDuplicateIsFoundInBigObjectsAndNestedOnesToo() throws {
        var members = (0..<40).map { #""k\#($0)":\#($0)"# }
        #expect(throws: Never.self) { try JSONParser.parse("{" + members.joined(separator: ",") + "}") }
        members.append(#""k17":0"#)
        #expect(throws: JSONError.self) { try JSONParser.parse("{" + members.joined(separator: ",") + "}") }
        #expect(throws: JSONError.self) { try JSONParser.parse(#"{"a":{"labels":{"x":"1","x":"2"}}}"#) }
        #expect(throws: Never.self) { try JSONParser.parse(#"{"a":{"a":1},"b":{"a":1}}"#) }
    }

    @Test("refuses every n_ case", arguments: cases(prefix: "n_"))
    func refusesInvalidJSON(_ file: String) {
        if case .success = Self.parse(file) { Issue.record("\(file) was accepted") }
    }

    @Test("survives every i_ case", arguments: cases(prefix: "i_"))
    func survivesImplementationDefinedCases(_ file: String) {
        _ = Self.parse(file)
    }

    @Test func deepNestingIsRefusedNotACrash() throws {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONError.self) { try JSONParser.parse(deep) }
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try JSONParser.parse(ok)
    }

    @Test func roundTripsStringsWithEscapesAndUnicode() throws {
        let value = JSONValue.object([("s", .string("a\"b\\c\n\t\u{1}é😀")), ("n", .number("-12.5e3")), ("b", .bool(false)), ("z", .null)])
        let text = JSONWriter.encode(value)
        #expect(text == #"{"s":"a\"b\\c\n\t\u0001é😀","n":-12.5e3,"b":false,"z":null}"#)
        #expect(try JSONParser.parse(text) == value)
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func numbersAreKeptVerbatim() throws {
        #expect(try JSONParser.parse("9007199254740993") == .number("9007199254740993"))
        #expect(JSONWriter.encode(try JSONParser.parse("1.50")) == "1.50")
    }

    @Test func unsignedIntegersAreWrittenInDecimal() {
        for n: UInt64 in [0, 7, 10, 99, 1_733_550_000_000, UInt64.max] {
            var out = JSONWriter()
            out.append(byte: UInt8(ascii: "["))
            out.append(n)
            out.append(byte: UInt8(ascii: "]"))
            #expect(String(decoding: out.bytes, as: UTF8.self) == "[\(n)]")
        }
    }
}

@Suite("Line framing")
struct FramingTests {
    func frames(_ text: String, max: Int = 8) -> [String] {
        var bytes = Array(text.utf8)
        var out: [String] = []
        var skipping = false
        while true {
            let frame = bytes.withUnsafeBytes { LineFraming.next(in: $0, maximumLength: max, skipping: skipping) }
            switch frame {
            case .line(let content, let consumed):
                out.append(String(decoding: bytes[content], as: UTF8.self))
                bytes.removeFirst(consumed)
            case .tooLarge(let consumed, let finished):
                out.append("<too large>")
                bytes.removeFirst(consumed)
                skipping = !finished
            case .skipped(let consumed, let finished):
                bytes.removeFirst(consumed)
                skipping = !finished
            case .needMore:
                return out + (bytes.isEmpty ? [] : ["<partial \(bytes.count)>"])
            }
        }
    }

    @Test func splitsOnNewlineOnlyAndDropsATrailingCR() {
        #expect(frames("a\nb\r\nc\rd\n") == ["a", "b", "c\rd"])
        #expect(frames("\n\r\n") == ["", ""])
        #expect(frames("abc") == ["<partial 3>"])
    }

    @Test func overLongLinesAreReportedOnceAndSkipped() {
        #expect(frames("0123456789\nok\n") == ["<too large>", "ok"])
        #expect(frames("0123456789abcdef") == ["<too large>"])
        #expect(frames("12345678\n") == ["12345678"])
        #expect(frames("12345678\r\n") == ["12345678"])
    }
}

@Suite("Request validation")
struct RequestTests {
    func parse(_ line: String) -> Result<Request, RequestFailure> {
        var line = line
        return line.withUTF8 { Request.parse($0) }
    }

    func error(_ line: String) -> (RequestID?, ProtocolError)? {
        if case .failure(let f) = parse(line) { return (f.id, f.error) }
        return nil
    }

    @Test func acceptsAWellFormedRequest() throws {
        let request = try parse(#"{"id":7,"op":"add","key":"foo","ttl":30,"labels":{"a":"b"}}"#).get()
        #expect(request.id == .number("7"))
        #expect(request.op == "add")
        #expect(request.number("ttl") == 30)
    }

    @Test func unknownFieldsAreNamedWithASuggestion() {
        let (id, e) = error(#"{"id":"a","op":"add","key":"foo","tll":30}"#)!
        #expect(id == .string("a"))
        #expect(e.code == .badRequest)
        #expect(e.message.contains("'tll'") && e.message.contains("did you mean 'ttl'"))
    }

    @Test func wrongTypesMissingFieldsAndUnknownOps() {
        #expect(error(#"{"id":1,"op":"add","key":5}"#)?.1.message == "field 'key' must be a string, not a number")
        #expect(error(#"{"id":1,"op":"delete"}"#)?.1.message.hasPrefix("missing field 'key'") == true)
        #expect(error(#"{"id":1,"op":"frobnicate"}"#)?.1.code == .unknownOp)
        #expect(error(#"{"id":1}"#)?.1.message.hasPrefix("missing field 'op'") == true)
        #expect(error(#"{"id":1,"op":7}"#)?.1.code == .badRequest)
        #expect(error(#"{"id":1,"op":"list","limit":1.5}"#)?.1.message.contains("integer") == true)
    }

    @Test func idsAreStringsOrIntegersUpTo2To53() {
        #expect(error(#"{"id":1.5,"op":"ping"}"#)?.0 == nil)
        #expect(error(#"{"id":[1],"op":"ping"}"#)?.1.code == .badRequest)
        #expect(error(#"{"id":9007199254740993,"op":"ping"}"#)?.1.code == .badRequest)
        #expect((try? parse(#"{"id":9007199254740992,"op":"ping"}"#).get())?.id == .number("9007199254740992"))
        #expect((try? parse(#"{"op":"ping"}"#).get())?.id == nil)
        #expect((try? parse(#"{"id":-9007199254740992,"op":"ping"}"#).get())?.id == .number("-9007199254740992"))
        for notInteger in ["1e3", "1E3", "2.0", "-0.5"] {
            #expect(error(#"{"id":\#(notInteger),"op":"ping"}"#)?.1.code == .badRequest, "\(notInteger)")
        }
    }

    @Test func nonObjectsAndEmptyLinesAreBadRequests() {
        for line in ["[1]", "1", "\"ping\"", "null", "", "  ", "{", "{\"op\":\"ping\"} x"] {
            #expect(error(line)?.1.code == .badRequest, "\(line)")
        }
    }
}

@Suite("Command-line values")
struct CommandLineValueTests {
    @Test func durationsParseInEveryForm() {
        #expect(DurationText.parse("500ms") == .milliseconds(500))
        #expect(DurationText.parse("5s") == .seconds(5))
        #expect(DurationText.parse("2m") == .seconds(120))
        #expect(DurationText.parse("1h30m") == .seconds(5400))
        #expect(DurationText.parse("1.5") == .milliseconds(1500))
        #expect(DurationText.parse("5") == .seconds(5))
        for bad in ["", "s", "5x", "-1", "1h30", "abc"] { #expect(DurationText.parse(bad) == nil, "\(bad)") }
        #expect(DurationText.format(.seconds(5400)) == "1h30m")
    }
}

@Suite("Wire times")
struct WireTimeTests {
    @Test func readsTheDaemonsRFC3339Form() {
        #expect(WireTime.milliseconds(rfc3339: "1970-01-01T00:00:00.000Z") == 0)
        #expect(WireTime.milliseconds(rfc3339: "2026-11-26T19:30:00.123Z") == 1_795_721_400_123)
        #expect(WireTime.milliseconds(rfc3339: "2000-02-29T23:59:59Z") == 951_868_799_000)
    }

    @Test func refusesOtherForms() {
        for text in ["", "2026-11-26", "2026-11-26 19:30:00Z", "2026-11-26T19:30:00+01:00", "2026-11-26T19:30:0x.000Z"] {
            #expect(WireTime.milliseconds(rfc3339: text) == nil, "\(text)")
        }
    }

    @Test func directOutputEscapesStringsLikeTheWriter() {
        var samples = (0..<128).map { String(UnicodeScalar(UInt8($0))) }
        samples += ["", "plain", "quote\"back\\slash", "tab\tnew\nline\r", "é ü 日本", "\u{7F}\u{1}end"]
        for text in samples {
            var writer = JSONWriter()
            writer.write(string: text)
            var direct = JSONWriter()
            direct.write(maximumLength: JSONOutput.maximumLength(ofString: text)) { $0.string(text) }
            #expect(direct.bytes == writer.bytes, "\(text.debugDescription)")
        }
    }

    @Test func directOutputWritesIntegersLikeTheWriter() {
        for n: UInt64 in [0, 7, 9, 10, 99, 100, 12_345, UInt64(Int64.max), .max] {
            var writer = JSONWriter()
            writer.append(n)
            var direct = JSONWriter()
            direct.write(maximumLength: JSONOutput.maximumNumberLength) { $0.number(n) }
            #expect(direct.bytes == writer.bytes)
        }
    }
}
