import Foundation
import RouterEngine
import RouterProtocol
import RouterTestSupport
import Testing
@testable import RouterServer

@Suite("Peer credentials and visibility", .serialized)
struct PeerTests {
    /// Runs `lines` through `socat` as the user `nobody`; returns the reply lines (greeting first).
    func runAsNobody(_ socket: String, _ lines: [String]) throws -> [JSONValue] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/socat", "-t", "5", "-", "UNIX-CONNECT:\(socket)"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(lines.joined(separator: "\n").utf8 + [0x0A]))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    @Test(.enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
                   && FileManager.default.isExecutableFile(atPath: "/usr/bin/socat"),
                   "needs root, setpriv and socat to run a client as nobody"))
    func aUserCannotTouchAnotherOwnersRouteNorSeeItsTarget() async throws {
        try await withDaemon({ $0.socketMode = 0o666 }) { daemon in
            chmod(daemon.directory, 0o755)
            let admin = try daemon.connect()
            #expect(try admin.request(#"{"op":"add","key":"secret","tunnel":"admin-t","target":"10.0.0.9:80","labels":{"team":"ops"}}"#).ok)
            let replies = try runAsNobody(daemon.socketPath, [
                #"{"id":1,"op":"lookup","host":"secret.example.com"}"#,
                #"{"id":2,"op":"delete","key":"secret.example.com"}"#,
                #"{"id":3,"op":"add","key":"secret","tunnel":"mine","replace":true}"#,
                #"{"id":4,"op":"add","key":"www"}"#,
                #"{"id":5,"op":"add","key":"mine","tunnel":"mine","target":"10.0.0.1:80"}"#,
                #"{"id":6,"op":"list"}"#,
                #"{"id":7,"op":"add","key":"x.secret.example.com"}"#,
                #"{"id":8,"op":"list","owner":"root"}"#,
                #"{"id":9,"op":"list","owner":"nobody"}"#,
            ])
            #expect(replies.first?["hello"]?["principal"]?["admin"] == .bool(false))
            #expect(replies.first?["hello"]?["principal"]?["name"] == .string("nobody"))
            func reply(_ id: Int) -> JSONValue? { replies.first { $0["id"] == .number(id) && $0["route"] == nil } }
            let lookup = reply(1)
            #expect(lookup?.ok == true)
            #expect(lookup?.result?["route"]?["target"] == .null)
            #expect(lookup?.result?["route"]?["labels"] == .object([]))
            #expect(reply(2)?.errorCode == "forbidden")
            #expect(reply(3)?.errorCode == "forbidden")
            #expect(reply(4)?.errorCode == "reserved")
            #expect(reply(5)?.errorCode == "forbidden", "no --allow-target: users may not set targets")
            #expect(reply(7)?.errorCode == "conflict")
            #expect(reply(7)?["error"]?["message"]?.stringValue?.contains("admin-t") == false)
            #expect(reply(8)?.errorCode == "forbidden", "another owner's list: \(String(describing: reply(8)))")
            #expect(reply(9)?.ok == true, "one's own list by name")
            let listed = replies.filter { $0["id"] == .number(6) && $0["route"] != nil }
            #expect(listed.isEmpty, "nobody owns no routes")
            #expect(try admin.request(#"{"op":"lookup","host":"secret.example.com"}"#).result?["route"]?["target"] == .string("10.0.0.9:80"))
        }
    }
}
