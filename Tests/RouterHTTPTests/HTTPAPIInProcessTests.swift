import DomainRouter
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
/// in-process daemon's executor, where a real socket is not the point: every refusal audited
/// and counted once as the socket's are, the answers' shapes, the framework's own answers.
/// (HTTPAPITests drives a real routerd with curl: TLS, SIGHUP, streams, connection bounds.)
@Suite("HTTP API in process")
struct HTTPAPIInProcessTests {
    static let alice = String(repeating: "a", count: 24)

    /// The API over a fresh daemon, its log lines kept in `recorder`.
    func withAPI(_ body: @Sendable (any TestClientProtocol, InProcessDaemon, LogRecorder) async throws -> Void) async throws {
        let recorder = LogRecorder()
        let daemon = try await InProcessDaemon.start(logger: recorder.logger(level: .info))
        let server = daemon.server
        let api = HTTPAPI(executor: server.executor, tokens: try HTTPTokens(text: "alice \(Self.alice)\n"),
                          logger: recorder.logger(level: .info), maximumBody: 65_536, stats: { server.statsObject(for: $0) })
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

    /// A request's status, JSON body (null when empty) and headers.
    static func call(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String,
                     authorized: Bool = true, body: String? = nil) async throws -> (HTTPResponse.Status, JSONValue, HTTPFields) {
        let response = try await client.execute(uri: path, method: method, headers: authorized ? auth : [:],
                                                body: body.map { ByteBuffer(string: $0) })
        let text = String(buffer: response.body).trimmingCharacters(in: .newlines)
        return (response.status, text.isEmpty ? .null : try JSONParser.parse(text), response.headers)
    }

    /// `router_operations_total` for `op` and `code` over HTTP, from the exposition.
    static func count(_ daemon: InProcessDaemon, op: String, code: String) -> Int {
        let executor = daemon.server.executor
        let text = String(decoding: executor.metrics.exposition(stats: executor.stats(), watchers: 0, connections: 0, httpConnections: 0),
                          as: UTF8.self)
        let prefix = #"router_operations_total{op="\#(op)",code="\#(code)",transport="http"} "#
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count)) } ?? 0
    }

    @Test func aTokenPrincipalPastANamespaceQuotaGets403WithTheDetailsAndStatsShowsTheUse() async throws {
        try await withAPI { client, daemon, _ in
            daemon.server.table.setNamespaces(try NamespacePolicy([
                Namespace(name: "web", kind: .team, domains: ["web.example.com"], users: ["alice"],
                          memberQuota: Namespace.Quota(routes: 1)),
                Namespace(name: "ops", kind: .team, domains: ["ops.example.com"], users: ["oscar"]),
            ]))
            let (added, _, _) = try await Self.call(client, .post, "/routes", body: #"{"key":"app","tunnel":"t1"}"#)
            #expect(added == .created)
            let (status, body, _) = try await Self.call(client, .post, "/routes", body: #"{"key":"two.web.example.com","tunnel":"t1"}"#)
            #expect(status == .forbidden)
            #expect(body["error"]?["code"] == .string("quota_exceeded"), "\(body)")
            #expect(body["error"]?["details"]?["namespace"] == .string("web") && body["error"]?["details"]?["member"] == .string("alice")
                    && body["error"]?["details"]?["quota"]?.integerValue == 1 && body["error"]?["details"]?["use"]?.integerValue == 1, "\(body)")
            // The bare label went under alice's namespace; stats shows the use as alice sees it.
            #expect(try await Self.call(client, .get, "/routes/app.web.example.com").0 == .ok)
            let (_, stats, _) = try await Self.call(client, .get, "/stats")
            guard case .array(let namespaces)? = stats["namespaces"] else {
                Issue.record("stats has namespaces: \(stats)")
                return
            }
            #expect(namespaces.count == 1 && namespaces[0]["use"]?["routes"]?.integerValue == 1, "\(namespaces)")
            // Another namespace is closed to alice: its names (routed or not), its list and its
            // watch are 403; a namespace not in force is 404.
            let (lookup, refusal, _) = try await Self.call(client, .get, "/routes/x.ops.example.com")
            #expect(lookup == .forbidden && refusal["error"]?["message"]?.stringValue?.contains("namespace ops") == true, "\(refusal)")
            #expect(try await Self.call(client, .get, "/routes?namespace=ops").0 == .forbidden)
            #expect(try await Self.call(client, .get, "/watch?namespace=ops").0 == .forbidden)
            #expect(try await Self.call(client, .get, "/watch?namespace=nosuch").0 == .notFound)
        }
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

    @Test func unknownPathsWrongMethodsAndHealthAnswerInJSON() async throws {
        try await withAPI { client, _, _ in
            let health = try await Self.call(client, .get, "/healthz", authorized: false)
            #expect(health.0 == .ok && health.1["status"] == .string("serving"), "open without a token: \(health.1)")
            let ready = try await Self.call(client, .get, "/readyz", authorized: false)
            #expect(ready.0 == .ok && ready.1["store"]?["kind"] == .string("memory"), "\(ready.1)")
            let unknown = try await Self.call(client, .get, "/nowhere")
            #expect(unknown.0 == .notFound && unknown.1["error"]?["code"] == .string("not_found"), "\(unknown.1)")
            let wrong = try await Self.call(client, .put, "/routes", body: "{}")
            #expect(wrong.0 == .methodNotAllowed && wrong.2[.allow] == "GET, POST", "\(wrong.2)")
            #expect(wrong.1["error"]?["message"]?.stringValue?.contains("/routes takes GET, POST") == true)
        }
    }

    @Test func theOpenAPIDocumentIsServedAsCommittedAndNamesEveryEndpoint() async throws {
        try await withAPI { client, _, _ in
            let served = try await Self.call(client, .get, "/openapi.json", authorized: false)
            #expect(served.0 == .ok)
            let committed = try JSONParser.parse(String(
                contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                    .deletingLastPathComponent().appendingPathComponent("docs/openapi.json").path, encoding: .utf8))
            #expect(served.1 == committed, "GET /openapi.json serves docs/openapi.json")
            guard case .object(let paths)? = committed["paths"] else {
                Issue.record("the document has no paths")
                return
            }
            var documented: [String: Set<String>] = [:]
            for (path, item) in paths {
                guard case .object(let members) = item else { continue }
                let methods = members.map(\.0).filter { ["get", "put", "post", "delete", "patch", "head", "options", "trace"].contains($0) }
                documented[path.replacingOccurrences(of: "{key}", with: ":key")] = Set(methods.map { $0.uppercased() })
            }
            var registered: [String: Set<String>] = [:]
            for (path, methods) in HTTPAPI.endpoints { registered[path] = Set(methods.map(\.rawValue)) }
            #expect(documented == registered, "docs/openapi.json and the registered endpoints differ")
        }
    }

    @Test func anAtomicBatchAppliesAllOrNothing() async throws {
        try await withAPI { client, _, _ in
            let failing = try await Self.call(client, .post, "/batch",
                                              body: #"{"atomic":true,"ops":[{"op":"add","key":"a","tunnel":"t"},{"op":"add","key":"bad_name"}]}"#)
            #expect(failing.0 == .unprocessableContent, "\(failing.1)")
            #expect(failing.1["error"]?["message"]?.stringValue?.contains("nothing was applied") == true)
            #expect(try await Self.call(client, .get, "/routes/a.example.com").0 == .notFound)
            let ok = try await Self.call(client, .post, "/batch",
                                         body: #"{"atomic":true,"ops":[{"op":"add","key":"a","tunnel":"t"},{"op":"add","key":"b","tunnel":"t"}]}"#)
            #expect(ok.0 == .ok && ok.1["results"]?[1]?["route"]?["key"] == .string("b.example.com"), "\(ok.1)")
        }
    }
}
