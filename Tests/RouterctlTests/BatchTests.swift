import Foundation
import RouterProtocol
import RouterTestSupport
import Testing
@testable import routerctl

@Suite("routerctl batch", .serialized)
struct BatchCommandTests {
    @Test func goodAndBadLinesAreCountedAndTheWorstStatusWins() throws {
        try withRouterd { d in
            d.run(["add", "taken", "--tunnel", "other"])
            let script = """
                # register the demo routes
                add a --tunnel t1

                add 'b' --tunnel "t1" --ttl 5m --label "team=blue green"
                {"op":"add","key":"c","tunnel":"t1"}
                add taken --tunnel t1
                frobnicate now
                delete gone --ignore-missing
                lookup a.example.com
                """
            let r = d.run(["batch"], stdin: script)
            #expect(r.status == 3, "the conflict is the highest status here; a line that does not parse is 2: \(r.stderr)")
            #expect(r.stderr.contains("line 6: "), "the conflict names its line: \(r.stderr)")
            #expect(r.stderr.contains("line 7: unknown command 'frobnicate'"))
            let six = r.stderr.range(of: "line 6: "), seven = r.stderr.range(of: "line 7: ")
            #expect(six != nil && seven != nil && six!.lowerBound < seven!.lowerBound, "failures in line order: \(r.stderr)")
            #expect(r.stderr.contains("5 ok, 2 failed"))
            let keys = d.run(["list", "--tunnel", "t1", "-o", "name"]).stdout
            #expect(keys == "a.example.com\nb.example.com\nc.example.com\n")
            let b = d.run(["lookup", "b.example.com", "-o", "json"]).stdout
            #expect(b.contains("\"team\":\"blue green\""))
        }
    }

    @Test func anUnreadableLineIsThatLinesFailureInLineOrder() throws {
        try withRouterd { d in
            d.run(["add", "taken", "--tunnel", "other"])
            // Line 1's refusal comes back from the daemon after line 2 was read; it is still first.
            let r = d.run(["batch"], stdin: "add taken --tunnel t1\nadd --ttl soon\nadd ok --tunnel t1\n")
            #expect(r.status == 3, "\(r.stderr)")
            let lines = r.stderr.split(separator: "\n").map(String.init)
            #expect(lines.count == 3, "\(r.stderr)")
            #expect(lines.first?.hasPrefix("line 1: ") == true, "\(r.stderr)")
            #expect(lines.dropFirst().first?.hasPrefix("line 2: ") == true, "\(r.stderr)")
            #expect(lines.last == "1 ok, 2 failed")
            let alone = d.run(["batch"], stdin: "add --ttl soon\nadd fine --tunnel t1\n")
            #expect(alone.status == 2, "\(alone.stderr)")
            #expect(alone.stderr.contains("line 1: "))
            let json = d.run(["batch", "-o", "json"], stdin: "frobnicate\n")
            #expect(json.stderr.contains("{\"line\":1,\"error\":{\"code\":\"bad_request\""), "\(json.stderr)")
        }
    }

    @Test func conflictAloneExits3() throws {
        try withRouterd { d in
            d.run(["add", "taken", "--tunnel", "other"])
            let r = d.run(["batch"], stdin: "add fresh --tunnel t1\nadd taken --tunnel t1\n")
            #expect(r.status == 3)
            #expect(r.stderr.contains("1 ok, 1 failed"))
        }
    }

    @Test func readsAFileWithDashF() throws {
        try withRouterd { d in
            let path = d.directory + "/routes.txt"
            try "add x --tunnel t1\nadd y --tunnel t1\n".write(toFile: path, atomically: true, encoding: .utf8)
            let r = d.run(["batch", "-f", path, "-o", "name"])
            #expect(r.status == 0)
            #expect(r.stdout == "x.example.com\ny.example.com\n")
        }
    }

    @Test func atomicAppliesAllOrNothing() throws {
        try withRouterd { d in
            d.run(["add", "taken", "--tunnel", "other"])
            let failing = d.run(["batch", "--atomic"], stdin: "add a --tunnel t1\nadd b --tunnel t1\nadd taken --tunnel t1\n")
            #expect(failing.status == 3)
            #expect(failing.stderr.contains("line 3: "), "\(failing.stderr)")
            #expect(d.run(["list", "--tunnel", "t1", "-o", "name"]).stdout.isEmpty, "nothing applied")
            let ok = d.run(["batch", "--atomic"], stdin: "add a --tunnel t1\nadd b --tunnel t1\ndelete taken\n")
            #expect(ok.status == 0, "\(ok.stderr)")
            #expect(d.run(["list", "-o", "name"]).stdout == "a.example.com\nb.example.com\n")
        }
    }

    @Test func atomicBatchOverTheLineLimitIsRefusedUpFront() throws {
        try withRouterd(["--max-line", "1024"]) { d in
            let lines = (0..<100).map { "add name\($0) --tunnel t1" }.joined(separator: "\n")
            let r = d.run(["batch", "--atomic"], stdin: lines)
            #expect(r.status == 2)
            #expect(r.stderr.contains("1024") && r.stderr.contains("--max-line"), "\(r.stderr)")
            #expect(d.run(["list", "-o", "name"]).stdout.isEmpty)
        }
    }

    @Test func atomicRefusesUnreadableLinesBeforeSending() throws {
        try withRouterd { d in
            let r = d.run(["batch", "--atomic"], stdin: "add a --tunnel t1\nadd 'unclosed\n")
            #expect(r.status == 2)
            #expect(r.stderr.contains("line 2: unterminated ' quote"))
            #expect(d.run(["list", "-o", "name"]).stdout.isEmpty)
        }
    }

    @Test func tenThousandAddsArePipelined() throws {
        try withRouterd { d in
            let lines = (0..<10_000).map { "add bulk\($0) --tunnel t\($0 % 10)" }.joined(separator: "\n")
            let r = d.run(["batch"], stdin: lines, timeout: 120)
            #expect(r.status == 0)
            #expect(r.stderr.contains("10000 ok, 0 failed"))
            let stats = try JSONParser.parse(d.run(["stats", "-o", "json"]).stdout.trimmingCharacters(in: .newlines))
            #expect(stats["routes"]?["total"] == .number("10000"))
        }
    }

    @Test func repliesFarLargerThanTheSocketBufferDoNotStallTheWriter() throws {
        try withRouterd { d in
            // Each lookup's reply carries 40 labels (about 2 KB): thousands in flight are
            // megabytes, far beyond a Unix socket's buffer, taken while the requests go out.
            let labels = (0..<40).flatMap { ["--label", "key\($0)=\(String(repeating: "v", count: 30))"] }
            #expect(d.run(["add", "big", "--tunnel", "t1"] + labels).status == 0)
            let lines = String(repeating: "lookup big.example.com\n", count: 6_000)
            let r = d.run(["batch", "-o", "json"], stdin: lines, timeout: 120)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains("6000 ok, 0 failed"))
            #expect(r.stdout.split(separator: "\n").count == 6_000)
        }
    }

    @Test func crlfLinesAndWhitespaceOnlyLinesReadAsPlainOnes() throws {
        try withRouterd { d in
            let r = d.run(["batch"], stdin: "add a --tunnel t1\r\n\r\n \t\n\u{00A0}\nadd 'b' --tunnel t1\r\n# note\r\n")
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains("2 ok, 0 failed"), "\(r.stderr)")
            #expect(d.run(["list", "-o", "name"]).stdout == "a.example.com\nb.example.com\n")
        }
    }

    @Test func fastReaderAgreesWithTheArgumentParser() throws {
        let lines = [
            "add foo", "add foo --tunnel t1 --target 10.0.0.1:80 --ttl 1h30m --label a=b --label c=d=e",
            "add --random --domain example.com", "add tcp:auto --replace --owner bob", "add foo --tunnel=t2 -q -o json",
            "add '*.apps.example.com' --ttl 90", "delete a b uuid:t1 --ignore-missing", "delete -- -odd",
            "touch foo --ttl 5m", "touch uuid:t1", "lookup FOO.example.com:8443", "lookup --sni x.example.com",
            "lookup tcp:49001", "add foo --socket /tmp/x.sock --timeout 2s --no-color",
        ]
        func encode(_ requests: [(op: String, arguments: [(String, JSONValue)])]) -> [String] {
            requests.map { JSONWriter.encode(.object([("op", .string($0.op))] + $0.arguments)) }
        }
        for line in lines {
            let words = try ShellWords.split(line)
            let fast = try #require(BatchLineReader.read(words), "the fast reader should read '\(line)'")
            let parsed = try #require(try Routerctl.parseAsRoot(words) as? BatchableCommand)
            #expect(encode(fast.requests) == encode(parsed.requests), "\(line)")
            #expect(fast.toleratesMissing == parsed.toleratesMissing)
        }
        // Lines it leaves to the parser (which then explains the mistake).
        for line in ["add", "add foo bar", "add foo --ttl soon", "add foo --bogus", "add --random foo", "add foo --domain d",
                     "add foo --label novalue", "touch", "add foo --help", "add foo -o yaml", "add foo --tunnel"] {
            #expect(BatchLineReader.read(try ShellWords.split(line)) == nil, "\(line)")
        }
    }

    @Test func plainLinesWrittenAsBytesAgreeWithTheParser() throws {
        func parsed(_ line: String) throws -> JSONValue {
            guard case .requests(let requests, false) = Batch.parse(line), requests.count == 1 else {
                throw LaunchError("'\(line)' did not parse to one request")
            }
            return .object([("id", .number("7")), ("op", .string(requests[0].op))] + requests[0].arguments)
        }
        for line in ["add foo", "add foo --tunnel t1", "add foo --target 10.0.0.1:80 --tunnel t1", "add  tcp:49000\t--tunnel  t-2 ",
                     "add *.apps.example.com --tunnel t1 --target [::1]:80", "delete foo.example.com", "delete uuid:t1", "add tcp:auto"] {
            var bytes: [UInt8] = []
            #expect(BatchPlainLine.encode(line, id: 7, into: &bytes), "'\(line)' is plain")
            #expect(bytes.last == 0x0A)
            let written = try JSONParser.parse(String(decoding: bytes.dropLast(), as: UTF8.self))
            #expect(written == (try parsed(line)), "\(line): \(String(decoding: bytes, as: UTF8.self))")
        }
        // Everything else goes to the parser, untouched.
        for line in ["add", "add -x", "add foo --tunnel", "add foo --tunnel t1 --tunnel t2", "add foo --ttl 5m", "add 'foo'", "add foo --tunnel=t1",
                     "delete a b", "delete foo --ignore-missing", "touch foo", "lookup foo", "routerctl add foo", "add foo # x",
                     "add fóo", "add foo\u{01}", "add foo --tunnel -t", "add foo --label a=b", #"add fo\o"#, "add a b c d e f g"] {
            var bytes: [UInt8] = []
            #expect(!BatchPlainLine.encode(line, id: 1, into: &bytes) && bytes.isEmpty, "'\(line)' is left to the parser")
        }
    }

    @Test func shellWordsFollowPOSIXQuoting() throws {
        #expect(try ShellWords.split(#"add foo --label 'a=b c' --target "x\"y" back\ slash # comment"#)
                == ["add", "foo", "--label", "a=b c", "--target", #"x"y"#, "back slash"])
        #expect(try ShellWords.split("  ") == [])
        #expect(try ShellWords.split("a''b \"\"") == ["ab", ""])
        #expect(throws: ShellWords.UnterminatedQuote.self) { try ShellWords.split("add 'x") }
        #expect(ShellWords.quote("it's") == #"'it'\''s'"#)
        #expect(try ShellWords.split(ShellWords.quote("it's")) == ["it's"])
    }
}
