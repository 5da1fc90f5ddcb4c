import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import RouterEngine
@testable import RouterHTTP
import RouterProtocol
import RouterServer
import RouterTestSupport
import Testing

/// The HTTP API in process (HummingbirdTesting's router mode: no socket, no port) over an
/// in-process daemon's executor: every refusal is audited and counted once, as the socket's are.
@Suite("HTTP API refusals, in process")
struct HTTPRefusalAuditTests {
    static let alice = String(repeating: "a", count: 24)

    /// The API over a fresh daemon, its log lines kept in `recorder`.
    func withAPI(_ body: @Sendable (any TestClientProtocol, InProcessDaemon, LogRecorder) async throws -> Void) async throws {
        let recorder = LogRecorder()
        let daemon = try await InProcessDaemon.start(logger: recorder.logger(level: .info))
        let server = daemon.server
        let api = HTTPAPI(executor: server.executor, tokens: try HTTPTokens(text: "alice \(Self.alice)\n"),
                          logger: recorder.logger(level: .info), maximumBody: 65_536, stats: { server.statsObject() })
        let app = Application(router: api.router())
        do {
            try await app.test(.router) { client in try await body(client, daemon, recorder) }
        } catch {
            await daemon.stop()
            throw error
        }
        await daemon.stop()
    }

    static var auth: HTTPFields { [.authorization: "Bearer \(alice)", .contentType: "application/json"] }

    /// `router_operations_total` for `op` and `code` over HTTP, from the exposition.
    static func count(_ daemon: InProcessDaemon, op: String, code: String) -> Int {
        let executor = daemon.server.executor
        let text = String(decoding: executor.metrics.exposition(stats: executor.stats(), watchers: 0, connections: 0, httpConnections: 0),
                          as: UTF8.self)
        let prefix = #"router_operations_total{op="\#(op)",code="\#(code)",transport="http"} "#
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count)) } ?? 0
    }

    @Test func theFrontEndsOwnRefusalsAreAuditedAndCountedOnce() async throws {
        try await withAPI { client, daemon, recorder in
            // A key that does not parse, a body that is not JSON, a batch op without its key.
            let badKey = try await client.execute(uri: "/routes/-bad-", method: .delete, headers: Self.auth)
            #expect(badKey.status == .unprocessableContent)
            let notJSON = try await client.execute(uri: "/routes", method: .post, headers: Self.auth, body: ByteBuffer(string: "{nope"))
            #expect(notJSON.status == .badRequest)
            let badBatch = try await client.execute(uri: "/batch", method: .post, headers: Self.auth,
                                                    body: ByteBuffer(string: #"{"ops":[{"op":"add","key":"a"},{"op":"delete"}]}"#))
            #expect(badBatch.status == .badRequest)
            let body = try JSONParser.parse(String(buffer: badBatch.body).trimmingCharacters(in: .newlines))
            #expect(body["error"]?["details"]?["index"] == .number("1"), "the socket's shape: the op's index in details: \(body)")
            let noToken = try await client.execute(uri: "/routes", method: .get)
            #expect(noToken.status == .unauthorized)

            let refused = recorder.all.filter { $0.message == "refused" }
            #expect(refused.map { $0.metadata["op"] } == ["delete", "add", "batch", "list"], "\(refused.map(\.metadata))")
            #expect(refused.map { $0.metadata["code"] } == ["invalid_name", "bad_request", "bad_request", "unauthorized"])
            #expect(Self.count(daemon, op: "delete", code: "invalid_name") == 1)
            #expect(Self.count(daemon, op: "add", code: "bad_request") == 1)
            #expect(Self.count(daemon, op: "batch", code: "bad_request") == 1)
            #expect(Self.count(daemon, op: "list", code: "unauthorized") == 1)
        }
    }

    @Test func theExecutorsRefusalsAreNotAuditedTwice() async throws {
        try await withAPI { client, daemon, recorder in
            let missing = try await client.execute(uri: "/routes/nothing.example.com", method: .delete, headers: Self.auth)
            #expect(missing.status == .notFound)
            let refused = recorder.all.filter { $0.message == "refused" }
            #expect(refused.count == 1 && refused.first?.metadata["code"] == "not_found", "\(refused.map(\.metadata))")
            #expect(Self.count(daemon, op: "delete", code: "not_found") == 1)
        }
    }

    @Test func aBatchAnswersInTheSameShapeAsTheSocket() async throws {
        try await withAPI { client, daemon, _ in
            let r = try await client.execute(uri: "/batch", method: .post, headers: Self.auth,
                                             body: ByteBuffer(string: #"{"ops":[{"op":"add","key":"a","tunnel":"t"},{"op":"delete","key":"-x-"}]}"#))
            #expect(r.status == .ok)
            let http = try JSONParser.parse(String(buffer: r.body).trimmingCharacters(in: .newlines))
            let c = try daemon.connect()
            defer { c.close() }
            try c.sendRaw(Array(#"{"id":1,"op":"batch","ops":[{"op":"add","key":"b","tunnel":"t"},{"op":"delete","key":"-x-"}]}"#.utf8) + [0x0A])
            let socket = try c.readJSON()
            #expect(http["results"]?[1] == socket["result"]?["results"]?[1], "one shape for an operation's error: \(http) vs \(socket)")
            #expect(http["results"]?[0]?["ok"] == .bool(true) && socket["result"]?["results"]?[0]?["ok"] == .bool(true))
        }
    }
}
