import RouterProtocol
import Testing

/// The flat add reader must agree with the full parser on every line it accepts, and leave
/// every other line to it.
@Suite("The flat add line")
struct AddArgumentsTests {
    func flat(_ line: String) -> (id: RequestID?, arguments: AddArguments)? {
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer { AddArguments.parseLine(UnsafeBufferPointer($0)) }
    }

    func full(_ line: String) -> Result<Request, RequestFailure> {
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer { Request.parse(UnsafeBufferPointer($0)) }
    }

    @Test func theCommonShapesAreReadFlat() throws {
        let lines = [
            #"{"op":"add","key":"foo"}"#,
            #"{"id":7,"op":"add","key":"foo","tunnel":"t1"}"#,
            #"{"id":"a-1","op":"add","key":"tcp:auto","session":true}"#,
            #"{"op":"add","random":true,"domain":"example.com","ttl":30}"#,
            #"{"key":"api","op":"add","target":"10.0.0.5:8080","ttl":0.5,"replace":false,"owner":"bob","id":0}"#,
        ]
        for line in lines {
            let read = try #require(flat(line), "\(line)")
            let request = try full(line).get()
            #expect(read.id == request.id && read.arguments == AddArguments(request), "\(line)")
        }
        let sample = try #require(flat(#"{"id":12,"op":"add","key":"foo","tunnel":"t1","ttl":1.25,"session":true}"#))
        #expect(sample.id == .number("12"))
        #expect(sample.arguments.key == "foo" && sample.arguments.tunnel == "t1" && sample.arguments.ttl == 1.25)
        #expect(sample.arguments.session && !sample.arguments.replace && !sample.arguments.random)
    }

    @Test func everythingElseIsLeftToTheFullParser() {
        let lines = [
            #"{"op":"lookup","key":"foo"}"#, // another op
            #"{"op":"add","key":"foo","labels":{"a":"b"}}"#, // a nested object
            #"{"op":"add","key":"f\u006fo"}"#, // an escape
            #"{"op":"add","key":"bücher"}"#, // non-ASCII
            #"{"op":"add", "key":"foo"}"#, // whitespace
            #"{"op":"add","key":"foo","key":"bar"}"#, // a repeated field
            #"{"op":"add","key":"foo","colour":"red"}"#, // an unknown field
            #"{"op":"add","key":null}"#, #"{"op":"add","key":5}"#, #"{"op":"add","session":"yes"}"#,
            #"{"id":1.5,"op":"add"}"#, #"{"id":-1,"op":"add"}"#, #"{"id":01,"op":"add"}"#,
            #"{"id":12345678901234567,"op":"add"}"#, #"{"op":"add","ttl":1e3}"#, #"{"op":"add","ttl":.5}"#,
            #"{"key":"foo"}"#, #"{}"#, #"{"op":"add""#, #"{"op":"add"} "#, #"["op","add"]"#, "",
        ]
        for line in lines { #expect(flat(line) == nil, "\(line)") }
    }

    @Test func generatedLinesGetTheSameIDAndArgumentsBothWays() throws {
        // Fields, values and separators combined at random: whatever the flat reader accepts,
        // the full parser must accept as an add with the same id and arguments (a failure
        // names its line).
        let names = ["id", "op", "key", "random", "domain", "tunnel", "target", "ttl", "session", "replace", "owner", "labels", "Key", "extra"]
        let values = [
            #""add""#, #""lookup""#, #""foo""#, #""a b""#, #""x\"y""#, #""é""#, #""""#, #""tcp:auto""#,
            "0", "7", "007", "-3", "1.5", "0.25", "1e2", "9007199254740993", "123456789012345",
            "true", "false", "null", #"{"a":"b"}"#, "[]",
        ]
        var generator = SystemRandomNumberGenerator()
        var accepted = 0
        for _ in 0..<20_000 {
            var members: [String] = []
            if generator.next() % 4 != 0 { members.append(#""op":"add""#) }
            for _ in 0..<Int(generator.next() % 5) {
                let name = names[Int(generator.next() % UInt64(names.count))]
                let value = values[Int(generator.next() % UInt64(values.count))]
                members.append("\"\(name)\":\(value)")
            }
            members.shuffle(using: &generator)
            let separator = generator.next() % 16 == 0 ? ", " : ","
            let line = "{" + members.joined(separator: separator) + "}"
            guard let read = flat(line) else { continue }
            accepted += 1
            let request = try full(line).get()
            #expect(request.op == "add", "\(line)")
            #expect(read.id == request.id, "\(line)")
            #expect(read.arguments == AddArguments(request), "\(line)")
        }
        #expect(accepted > 2_000, "the generated lines exercise the flat reader (\(accepted) read)")
    }
}
