import Foundation
import RouterEngine
import RouterProtocol
import RouterTestSupport
import Testing
@testable import RouterServer

@Suite("Malformed input never hurts the connection or the daemon", .serialized)
struct InputTests {
    static let suite: String = {
        // Vendored into the repository (Tests/TestData, MIT; see its README and LICENSE).
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TestData/jsontestsuite/test_parsing").path
    }()

    @Test func everyInvalidJSONTestSuiteCaseIsABadRequest() async throws {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: Self.suite)) ?? []).filter { $0.hasPrefix("n_") }.sorted()
        #expect(files.count > 100, "JSONTestSuite not found at \(Self.suite)")
        try await withDaemon { daemon in
            let c = try daemon.connect()
            var sent = 0
            for file in files {
                var bytes = [UInt8](FileManager.default.contents(atPath: Self.suite + "/" + file) ?? Data())
                // A raw newline or CR inside a case would end the line early; send up to it.
                if let cut = bytes.firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) { bytes = Array(bytes[..<cut]) }
                try c.sendRaw(bytes + [0x0A])
                let reply = try c.readJSON()
                // Cases longer than --max-line (64 KiB: 100,000 brackets) are too_large instead.
                let expected = bytes.count > daemon.server.configuration.maximumLineLength ? "too_large" : "bad_request"
                #expect(reply.errorCode == expected, "\(file): \(reply)")
                sent += 1
            }
            #expect(try c.request(#"{"id":"after","op":"ping"}"#).ok)
            #expect(sent == files.count)
        }
    }

    @Test func malformedLinesGetTheRightErrorAndTheConnectionGoesOn() async throws {
        try await withDaemon { daemon in
            let c = try daemon.connect()
            let cases: [(String, [UInt8], String)] = [
                ("array", Array("[1,2]".utf8), "bad_request"),
                ("scalar", Array("42".utf8), "bad_request"),
                ("string", Array("\"ping\"".utf8), "bad_request"),
                ("wrong type", Array(#"{"id":1,"op":"add","key":true}"#.utf8), "bad_request"),
                ("missing field", Array(#"{"id":1,"op":"touch"}"#.utf8), "bad_request"),
                ("unknown field", Array(#"{"id":1,"op":"ping","extra":1}"#.utf8), "bad_request"),
                ("duplicate key", Array(#"{"op":"ping","op":"stats"}"#.utf8), "bad_request"),
                ("unknown op", Array(#"{"id":1,"op":"explode"}"#.utf8), "unknown_op"),
                ("invalid UTF-8", Array(#"{"id":1,"op":"lookup","host":""#.utf8) + [0xC3, 0x28] + Array("\"}".utf8), "bad_request"),
                ("deep nesting", Array((String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)).utf8), "bad_request"),
                ("empty line", [], "bad_request"),
                ("bare CR", [0x0D], "bad_request"),
            ]
            for (name, bytes, code) in cases {
                try c.sendRaw(bytes + [0x0A])
                let reply = try c.readJSON()
                #expect(reply.errorCode == code, "\(name): \(reply)")
                if name == "duplicate key" {
                    #expect(reply["error"]?["message"]?.stringValue?.contains(#""op" appears twice"#) == true, "\(reply)")
                }
                #expect(try c.request(#"{"op":"ping"}"#).ok, "after \(name)")
            }
        }
    }

    @Test func aOneMebibyteLineIsTooLargeAndSkipped() async throws {
        try await withDaemon { daemon in
            let c = try daemon.connect()
            let huge = Array(#"{"id":1,"op":"add","key":""#.utf8) + [UInt8](repeating: 0x61, count: 1 << 20) + Array(#""}"#.utf8)
            try c.sendRaw(huge + [0x0A] + Array(#"{"id":2,"op":"ping"}"#.utf8) + [0x0A])
            let first = try c.readJSON()
            #expect(first.errorCode == "too_large")
            #expect(first["id"] == .null)
            let second = try c.readJSON()
            #expect(second["id"] == .number(2) && second.ok)
        }
    }

    @Test func otherConnectionsAreUnaffectedByAHostileOne() async throws {
        try await withDaemon { daemon in
            let hostile = try daemon.connect()
            let calm = try daemon.connect()
            try hostile.sendRaw([UInt8](repeating: 0x5B, count: 300_000))
            #expect(try calm.request(#"{"op":"add","key":"calm"}"#).ok)
            #expect(try hostile.readJSON().errorCode == "too_large")
            try hostile.sendRaw([0x0A] + Array(#"{"op":"ping"}"#.utf8) + [0x0A])
            #expect(try hostile.readJSON().ok)
        }
    }

    @Test func aHalfClosedScriptGetsEveryAnswer() async throws {
        try await withDaemon { daemon in
            let c = try daemon.connect()
            try c.sendRaw(Array("{\"id\":1,\"op\":\"ping\"}\n{\"id\":2,\"op\":\"add\",\"key\":\"piped\"}".utf8))
            shutdown(c.fd, Int32(SHUT_WR))
            #expect(try c.readJSON()["id"] == .number(1))
            #expect(try c.readJSON().ok)
            #expect(c.isClosed())
        }
    }
}

@Suite("The socket file", .serialized)
struct SocketFileTests {
    @Test func aSecondDaemonOnTheSamePathIsRefused() async throws {
        try await withDaemon { daemon in
            await #expect(throws: ServerError.alreadyRunning(daemon.socketPath)) {
                _ = try await InProcessDaemon.start { $0.socketPath = daemon.socketPath }
            }
            let client = try daemon.connect()
            let pong = try client.request(#"{"op":"ping"}"#)
            #expect(pong.ok)
        }
    }

    @Test func aStaleSocketFileIsReplacedAndTheModeApplied() async throws {
        let directory = makeTemporaryDirectory("rd-")
        let path = directory + "/sub/dir/r.sock"
        try FileManager.default.createDirectory(atPath: directory + "/sub/dir", withIntermediateDirectories: true)
        // A socket file whose daemon is gone.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        _ = UnixSocketAddress(path: path)!.withSockaddr { bind(fd, $0, $1) }
        close(fd)
        #expect(FileManager.default.fileExists(atPath: path))
        try await withDaemon({ $0.socketPath = path; $0.socketMode = 0o640 }) { daemon in
            var info = stat()
            #expect(stat(path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o640)
            let client = try daemon.connect()
            let pong = try client.request(#"{"op":"ping"}"#)
            #expect(pong.ok)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test func theSocketDirectoryIsCreated() async throws {
        let directory = makeTemporaryDirectory("rd-")
        try await withDaemon({ $0.socketPath = directory + "/a/b/r.sock" }) { daemon in
            let client = try daemon.connect()
            let pong = try client.request(#"{"op":"ping"}"#)
            #expect(pong.ok)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test func aPathThatIsNotASocketIsLeftAlone() async throws {
        let directory = makeTemporaryDirectory("rd-")
        let path = directory + "/file"
        _ = FileManager.default.createFile(atPath: path, contents: Data("keep".utf8))
        await #expect(throws: ServerError.socketPathInUse(path)) {
            _ = try await InProcessDaemon.start { $0.socketPath = path }
        }
        #expect(FileManager.default.contents(atPath: path) == Data("keep".utf8))
        try? FileManager.default.removeItem(atPath: directory)
    }
}
