import Foundation
import RouterEngine
import RouterProtocol
import RouterTestSupport
import Testing
@testable import RouterServer

/// Replays the examples of docs/protocol.md verbatim against a real daemon.
@Suite("docs/protocol.md examples")
struct ProtocolDocumentTests {
    static let document: String = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/protocol.md").path
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }()

    /// The fenced blocks made of `> ` (sent) and `< ` (expected) lines.
    static var blocks: [[String]] {
        var blocks: [[String]] = []
        var current: [String]?
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                if let block = current, !block.isEmpty, block.allSatisfy({ $0.hasPrefix("> ") || $0.hasPrefix("< ") }) {
                    blocks.append(block)
                }
                current = current == nil ? [] : nil
                continue
            }
            current?.append(String(line))
        }
        return blocks
    }

    /// Whether `actual` matches `expected`, where the string "…" matches any value.
    static func matches(_ expected: JSONValue, _ actual: JSONValue) -> Bool {
        if expected == .string("…") { return true }
        switch (expected, actual) {
        case (.object(let e), .object(let a)):
            let ed = Dictionary(e, uniquingKeysWith: { $1 })
            let ad = Dictionary(a, uniquingKeysWith: { $1 })
            return Set(ed.keys) == Set(ad.keys) && ed.allSatisfy { matches($0.value, ad[$0.key]!) }
        case (.array(let e), .array(let a)):
            return e.count == a.count && zip(e, a).allSatisfy { matches($0, $1) }
        default:
            return expected == actual
        }
    }

    @Test func everyExampleReplaysVerbatim() async throws {
        let blocks = Self.blocks
        #expect(blocks.count >= 8, "examples not found in docs/protocol.md")
        try await withDaemon { daemon in
            for block in blocks {
                let client = try LineClient(path: daemon.socketPath, readGreeting: false)
                var lines = block[...]
                if let first = lines.first, first.hasPrefix("< {\"hello\"") {
                    let greeting = try client.readJSON()
                    #expect(Self.matches(try JSONParser.parse(String(first.dropFirst(2))), greeting), "greeting: \(JSONWriter.encode(greeting))")
                    lines = lines.dropFirst()
                } else {
                    _ = try client.readJSON()
                }
                for line in lines {
                    let text = String(line.dropFirst(2))
                    if line.hasPrefix("> ") {
                        try client.send(text)
                    } else {
                        let actual = try client.readJSON()
                        let expected = try JSONParser.parse(text)
                        #expect(Self.matches(expected, actual), "expected \(text)\n     got \(JSONWriter.encode(actual))")
                    }
                }
                client.close()
            }
        }
    }
}
