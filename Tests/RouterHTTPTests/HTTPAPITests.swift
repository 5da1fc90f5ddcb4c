import Foundation
import RouterHTTP
import RouterProtocol
import RouterTestSupport
import Testing

/// The HTTP API of a real routerd, driven with curl.
@Suite("HTTP API with curl", .serialized)
struct HTTPAPITests {
    static let curl = ["/usr/bin/curl", "/usr/local/bin/curl"].first { FileManager.default.isExecutableFile(atPath: $0) }
    let alice = String(repeating: "a", count: 24)
    let bob = String(repeating: "b", count: 24)
    let ops = String(repeating: "c", count: 24)

    /// A routerd with the API on a free port and tokens for alice, bob and an admin.
    final class Server {
        let routerd: RouterdProcess
        let base: String
        let tokens: String

        init(tokens text: String) throws {
            let dir = makeTemporaryDirectory("http-")
            tokens = dir + "/tokens"
            try text.write(toFile: tokens, atomically: false, encoding: .utf8)
            chmod(tokens, 0o600)
            routerd = try RouterdProcess(["--domain", "example.com", "--log-level", "notice",
                                          "--http", "127.0.0.1:0", "--http-tokens", tokens])
            base = "http://127.0.0.1:\(try routerd.httpPort())"
            #expect(eventually { (try? self.curl(["-s", "-o", "/dev/null", base + "/routes"]))?.status == 0 })
        }

        struct Reply {
            var status: Int
            var body: JSONValue
            var headers: String
        }

        /// Runs curl; the status and body of the response.
        func call(_ method: String, _ path: String, token: String?, body: String? = nil) throws -> Reply {
            let dir = routerd.directory
            var words = ["-s", "-D", dir + "/headers", "-X", method, base + path]
            if let token { words += ["-H", "Authorization: Bearer \(token)"] }
            if let body { words += ["-H", "Content-Type: application/json", "--data-binary", body] }
            let result = try curl(words)
            let headers = (try? String(contentsOfFile: dir + "/headers", encoding: .utf8)) ?? ""
            let status = headers.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            let json = result.stdout.isEmpty ? JSONValue.null : try JSONParser.parse(result.stdout.trimmingCharacters(in: .newlines))
            return Reply(status: status, body: json, headers: headers)
        }

        func curl(_ words: [String]) throws -> Finished {
            try ChildProcess(HTTPAPITests.curl!, words, directory: routerd.directory).wait(timeout: 20)
        }

        func stop() throws -> Finished {
            defer { try? FileManager.default.removeItem(atPath: (tokens as NSString).deletingLastPathComponent) }
            return try routerd.stop()
        }
    }

    var tokens: String { "alice \(alice)\nbob \(bob)\nops \(ops) admin\n" }

    @Test(.enabled(if: curl != nil, "needs curl")) func addGetListLookupAndDeleteARoute() throws {
        let s = try Server(tokens: tokens)
        let added = try s.call("POST", "/routes", token: alice, body: #"{"key":"foo","tunnel":"t1","ttl":60,"labels":{"env":"dev"}}"#)
        #expect(added.status == 201, "\(added)")
        #expect(added.headers.lowercased().contains("location: /routes/foo.example.com"))
        #expect(added.body["route"]?["owner"] == .string("alice"))
        let got = try s.call("GET", "/routes/foo.example.com", token: alice)
        #expect(got.status == 200 && got.body["route"]?["tunnel"] == .string("t1"))
        let looked = try s.call("GET", "/lookup?host=FOO.Example.COM:8443", token: bob)
        #expect(looked.status == 200 && looked.body["match"] == .string("exact"))
        #expect(looked.body["route"]?["labels"] == .object([]), "another owner's labels are hidden")
        let listed = try s.call("GET", "/routes?prefix=foo", token: alice)
        #expect(listed.body["routes"]?[0]?["key"] == .string("foo.example.com"))
        #expect(listed.body["next"] == .null)
        let touched = try s.call("POST", "/routes/foo.example.com/touch", token: alice, body: #"{"ttl":120}"#)
        #expect(touched.status == 200 && touched.body["route"]?["ttl"] == .number("120"), "\(touched)")
        _ = try s.call("POST", "/routes", token: alice, body: #"{"key":"*.apps.example.com","tunnel":"t1"}"#)
        let wildcard = try s.call("GET", "/routes/%2A.apps.example.com", token: alice)
        #expect(wildcard.status == 200 && wildcard.body["via"] == .string("*.apps.example.com"), "\(wildcard)")
        #expect(try s.call("GET", "/routes/*.apps.example.com", token: alice).status == 200)
        let deleted = try s.call("DELETE", "/routes/foo.example.com", token: alice)
        #expect(deleted.status == 200 && deleted.body["deleted"] == .number("1"))
        #expect(try s.call("GET", "/routes/foo.example.com", token: alice).status == 404)
        let log = try s.stop().stderr
        #expect(log.contains("peer=alice") && log.contains("via=http") && log.contains("] add"), "audit lines: \(log)")
    }

    @Test(.enabled(if: curl != nil, "needs curl")) func refusalsCarryTheProtocolsCodesUnderHTTPStatuses() throws {
        let s = try Server(tokens: tokens)
        defer { _ = try? s.stop() }
        #expect(try s.call("GET", "/routes", token: nil).status == 401)
        #expect(try s.call("GET", "/routes", token: "x" + alice).status == 401)
        _ = try s.call("POST", "/routes", token: alice, body: #"{"key":"taken","tunnel":"t1"}"#)
        let conflict = try s.call("POST", "/routes", token: bob, body: #"{"key":"taken","tunnel":"t2"}"#)
        #expect(conflict.status == 409 && conflict.body["error"]?["code"] == .string("conflict"))
        let forbidden = try s.call("DELETE", "/routes/taken.example.com", token: bob)
        #expect(forbidden.status == 403 && forbidden.body["error"]?["code"] == .string("forbidden"))
        let notYours = try s.call("PATCH", "/routes/taken.example.com", token: bob, body: #"{"labels":{"a":"b"}}"#)
        #expect(notYours.status == 403 && notYours.body["error"]?["code"] == .string("forbidden"), "\(notYours)")
        let patched = try s.call("PATCH", "/routes/taken.example.com", token: alice, body: #"{"labels":{"a":"b"},"target":null}"#)
        #expect(patched.status == 200 && patched.body["route"]?["labels"]?["a"] == .string("b") && patched.body["route"]?["tunnel"] == .string("t1"),
                "\(patched)")
        let nothing = try s.call("PATCH", "/routes/taken.example.com", token: alice, body: "{}")
        #expect(nothing.status == 400, "\(nothing)")
        let invalid = try s.call("POST", "/routes", token: alice, body: #"{"key":"bad_name"}"#)
        #expect(invalid.status == 422 && invalid.body["error"]?["code"] == .string("invalid_name"))
        let typo = try s.call("POST", "/routes", token: alice, body: #"{"key":"x","tll":30}"#)
        #expect(typo.status == 400 && typo.body["error"]?["message"]?.stringValue?.contains("'tll'") == true)
        let session = try s.call("POST", "/routes", token: alice, body: #"{"key":"s","session":true}"#)
        #expect(session.status == 400 && session.body["error"]?["message"]?.stringValue?.contains("ttl") == true)
        let notJSON = try s.call("POST", "/routes", token: alice, body: "{nope")
        #expect(notJSON.status == 400)
        let twice = try s.call("POST", "/routes", token: alice, body: #"{"key":"one","key":"two","tunnel":"t1"}"#)
        #expect(twice.status == 400 && twice.body["error"]?["code"] == .string("bad_request")
                && twice.body["error"]?["message"]?.stringValue?.contains(#""key" appears twice"#) == true, "\(twice.body)")
        let admin = try s.call("DELETE", "/routes/taken.example.com", token: ops)
        #expect(admin.status == 200, "an admin may delete another owner's route")
    }

    @Test(.enabled(if: curl != nil, "needs curl")) func theAPIAnswersAsTheSocketDoes() throws {
        let s = try Server(tokens: tokens)
        defer { _ = try? s.stop() }
        _ = try s.call("POST", "/routes", token: alice, body: #"{"key":"alices","tunnel":"t1"}"#)
        // The scheme of Authorization is case-insensitive (RFC 9110 §11.1).
        for scheme in ["bearer", "BEARER", "Bearer "] {
            let r = try s.curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: \(scheme) \(alice)", s.base + "/routes"])
            #expect(r.stdout == "200", "\(scheme): \(r.stdout)")
        }
        // Another owner's routes: forbidden, as on the socket, not one's own routes instead.
        let other = try s.call("GET", "/routes?owner=alice", token: bob)
        #expect(other.status == 403 && other.body["error"]?["code"] == .string("forbidden"), "\(other)")
        #expect(try s.call("GET", "/routes?owner=bob", token: bob).status == 200)
        let admin = try s.call("GET", "/routes?owner=alice", token: ops)
        #expect(admin.body["routes"]?[0]?["key"] == .string("alices.example.com"), "an admin lists anyone's: \(admin)")
    }

    @Test func requestsHTTPItselfRefusesGetTheJSONErrorObject() throws {
        let s = try Server(tokens: tokens)
        defer { _ = try? s.stop() }
        let port = try #require(Int(s.base.split(separator: ":").last!))
        func probe(_ raw: String) -> HTTPProbe.Result {
            HTTPProbe.send([Array(raw.utf8)], to: .tcp(port: port), halfClose: false)
        }
        func code(_ response: HTTPProbe.Response?) -> JSONValue? {
            guard let response else { return nil }
            return (try? JSONParser.parse(String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .newlines)))?["error"]?["code"]
        }
        let huge = probe("GET /routes HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 100_000))\r\n\r\n")
        #expect(huge.responses.first?.status == 431 && code(huge.responses.first) == .string("too_large"), "\(huge)")
        let many = probe("GET /routes HTTP/1.1\r\nHost: x\r\n" + (0..<1000).map { "X-H\($0): v\r\n" }.joined() + "\r\n")
        #expect(many.responses.first?.status == 431 && code(many.responses.first) == .string("too_large"), "\(many)")
        let malformed = probe("GET /routes HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
        #expect(malformed.responses.first?.status == 400 && code(malformed.responses.first) == .string("bad_request"), "\(malformed)")
        // Pipelined after a good request: that one's answer first, then the refusal, then close.
        let after = probe("GET /routes HTTP/1.1\r\nHost: x\r\n\r\nGET /routes HTTP/1.1\r\nno colon here\r\n\r\n")
        #expect(after.responses.map(\.status) == [401, 400] && code(after.responses.last) == .string("bad_request") && after.closed, "\(after)")
    }

    @Test func theHTTPListenBacklogFollowsMaxConnections() throws {
        let dir = makeTemporaryDirectory("http-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "alice \(alice)\n".write(toFile: dir + "/tokens", atomically: false, encoding: .utf8)
        chmod(dir + "/tokens", 0o600)
        let routerd = try RouterdProcess(["--http", "127.0.0.1:0", "--http-tokens", dir + "/tokens", "--max-connections", "777"])
        let port = try routerd.httpPort()
        // ss shows a listening socket's backlog as its Send-Q.
        var line = ""
        #expect(eventually {
            line = (try? ChildProcess("/usr/bin/ss", ["-Hltn", "sport = :\(port)"], directory: dir).wait().stdout) ?? ""
            return !line.isEmpty
        })
        let columns = line.split(separator: " ", omittingEmptySubsequences: true)
        #expect(columns.count >= 3 && columns[2] == "777", "ss: \(line)")
        // The start-up log names the HTTP listener as it names the socket.
        let log = try routerd.stop().stderr
        #expect(log.contains("HTTP API listening on http://127.0.0.1:\(port)"), "\(log)")
    }

    @Test(.enabled(if: curl != nil, "needs curl")) func metricsCountOperationsByCodeAndTransport() throws {
        let s = try Server(tokens: tokens)
        defer { _ = try? s.stop() }
        _ = try s.call("POST", "/routes", token: alice, body: #"{"key":"m1","tunnel":"t1"}"#)
        _ = try s.call("POST", "/routes", token: bob, body: #"{"key":"m1","tunnel":"t2"}"#)
        _ = try s.call("GET", "/lookup?host=m1.example.com", token: bob)
        let socket = try LineClient(path: s.routerd.socket)
        #expect(try socket.request(#"{"op":"add","key":"m2","tunnel":"t3"}"#).ok)
        let text = try s.curl(["-s", s.base + "/metrics"]).stdout
        #expect(text.contains(#"router_operations_total{op="add",code="ok",transport="http"} 1"#), "\(text.prefix(2000))")
        #expect(text.contains(#"router_operations_total{op="add",code="conflict",transport="http"} 1"#))
        #expect(text.contains(#"router_operations_total{op="add",code="ok",transport="socket"} 1"#))
        #expect(text.contains(#"router_operations_total{op="lookup",code="ok",transport="http"} 1"#))
        #expect(text.contains(#"router_routes{kind="host"} 2"#))
        #expect(text.contains("router_revision 2"))
        #expect(text.contains("router_lookup_duration_seconds_count 1"))
        #expect(text.contains("router_connections{transport=\"socket\"} 1"))
    }

    @Test(.enabled(if: curl != nil, "needs curl")) func aRevokedTokenStopsWorkingOnSIGHUP() throws {
        let s = try Server(tokens: tokens)
        defer { _ = try? s.stop() }
        #expect(try s.call("GET", "/routes", token: bob).status == 200)
        try "alice \(alice)\n".write(toFile: s.tokens, atomically: false, encoding: .utf8)
        s.routerd.process.signal(SIGHUP)
        #expect(eventually { (try? s.call("GET", "/routes", token: bob))?.status == 401 })
        #expect(try s.call("GET", "/routes", token: alice).status == 200)
    }

    /// curl reading a stream into a file until it is stopped.
    func stream(_ s: Server, _ path: String, token: String, accept: String? = nil, lastEventID: String? = nil,
                into directory: String) throws -> (ChildProcess, String) {
        let out = directory + "/stream-\(UInt32.random(in: 0...UInt32.max))"
        var words = ["-s", "-N", "-o", out, "-H", "Authorization: Bearer \(token)", s.base + path]
        if let accept { words += ["-H", "Accept: \(accept)"] }
        if let lastEventID { words += ["-H", "Last-Event-ID: \(lastEventID)"] }
        return (try ChildProcess(HTTPAPITests.curl!, words, directory: directory), out)
    }

    func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test(.enabled(if: curl != nil, "needs curl")) func watchStreamsServerSentEventsAndResumesAfterLastEventID() throws {
        let s = try Server(tokens: tokens)
        let dir = makeTemporaryDirectory("sse-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try s.call("POST", "/routes", token: alice, body: #"{"key":"one","tunnel":"t1"}"#)
        let (sse, out) = try stream(s, "/watch?from_revision=1", token: alice, into: dir)
        #expect(eventually { read(out).contains("event: sync") }, "\(read(out))")
        _ = try s.call("POST", "/routes", token: alice, body: #"{"key":"two","tunnel":"t1"}"#)
        _ = try s.call("POST", "/routes", token: bob, body: #"{"key":"bobs","tunnel":"t9"}"#)
        #expect(eventually { read(out).contains("id: 2\nevent: add\ndata: {\"type\":\"add\",\"revision\":2,\"key\":\"two.example.com\"") }, "\(read(out))")
        let text = read(out)
        #expect(text.hasPrefix("id: 1\nevent: add\n"), "the replay comes first: \(text)")
        #expect(!text.contains("bobs"), "a user's watch sees its own routes only")
        let (resumed, resumedOut) = try stream(s, "/watch", token: alice, lastEventID: "1", into: dir)
        #expect(eventually { read(resumedOut).contains("event: sync") })
        #expect(read(resumedOut).hasPrefix("id: 2\n"), "resumes after the last event seen: \(read(resumedOut))")
        let (ndjson, ndjsonOut) = try stream(s, "/watch", token: ops, accept: "application/x-ndjson", into: dir)
        #expect(eventually { read(ndjsonOut).contains(#"{"event":{"type":"sync","revision":3}}"#) }, "\(read(ndjsonOut))")
        let gone = try s.call("GET", "/watch?from_revision=99", token: alice)
        #expect(gone.status == 422 && gone.body["error"]?["code"] == .string("out_of_range"), "\(gone)")
        // Shutdown ends every stream with unavailable and routerd still exits at once.
        let finished = try s.stop()
        #expect(finished.status == 0)
        for child in [sse, resumed, ndjson] { child.wait(timeout: 10) }
        #expect(read(out).contains("event: error\ndata: {\"code\":\"unavailable\""), "\(read(out))")
        #expect(read(ndjsonOut).contains(#"{"error":{"code":"unavailable""#))
    }

    @Test(.enabled(if: curl != nil, "needs curl")) func aLargeNDJSONListStreamsWithFlatMemory() throws {
        let s = try Server(tokens: tokens)
        defer { _ = try? s.stop() }
        let count = 50_000
        let loader = try LineClient(path: s.routerd.socket)
        var lines: [UInt8] = []
        for i in 0..<count { lines += Array(#"{"op":"add","key":"n\#(i)","tunnel":"bulk","owner":"alice"}"#.utf8) + [0x0A] }
        try loader.sendRaw(lines)
        for _ in 0..<count { _ = try loader.readLine(timeout: 60) }
        func resident() -> Int {
            let status = (try? String(contentsOfFile: "/proc/\(s.routerd.process.pid)/status", encoding: .utf8)) ?? ""
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
            return (line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0) * 1024
        }
        let before = resident()
        let out = s.routerd.directory + "/list.ndjson"
        let listed = try ChildProcess(HTTPAPITests.curl!, ["-s", "-o", out, "-H", "Authorization: Bearer \(alice)", "-H", "Accept: application/x-ndjson", s.base + "/routes"],
                                      directory: s.routerd.directory).wait(timeout: 120)
        #expect(listed.status == 0)
        let after = resident()
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        let routeLines = text.split(separator: "\n")
        #expect(routeLines.count == count, "every route, one a line")
        #expect(routeLines.first?.hasPrefix(#"{"route":{"key":"n0.example.com""#) == true)
        // A page at a time: the daemon never holds the whole answer, which would grow it by more.
        #expect(after - before < text.utf8.count / 2, "RSS grew by \(after - before) bytes for a \(text.utf8.count)-byte answer")
    }

    static let openssl = opensslPath

    @Test(.enabled(if: curl != nil && openssl != nil, "needs curl and openssl"))
    func theAPIServesHTTPSWithACertificateAndKey() throws {
        let dir = makeTemporaryDirectory("tls-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeTestCertificate(in: dir)
        try "alice \(alice)\n".write(toFile: dir + "/tokens", atomically: false, encoding: .utf8)
        chmod(dir + "/tokens", 0o600)
        let routerd = try RouterdProcess(["--domain", "example.com", "--http", "127.0.0.1:0", "--http-tokens", dir + "/tokens",
                                          "--http-tls-cert", dir + "/cert.pem", "--http-tls-key", dir + "/key.pem"])
        defer { _ = try? routerd.stop() }
        let port = try routerd.httpPort()
        let url = "https://127.0.0.1:\(port)"
        var answer = Finished(status: -1, stdout: "", stderr: "")
        #expect(eventually {
            answer = (try? ChildProcess(Self.curl!, ["-s", "--cacert", dir + "/cert.pem", "-H", "Authorization: Bearer \(alice)",
                                                     "-X", "POST", url + "/routes", "-d", #"{"key":"secure","tunnel":"t1"}"#],
                                        directory: dir).wait(timeout: 20)) ?? answer
            return answer.status == 0 && answer.stdout.contains("secure.example.com")
        }, "\(answer)")
        let untrusted = try ChildProcess(Self.curl!, ["-s", url + "/healthz"], directory: dir).wait(timeout: 20)
        #expect(untrusted.status != 0, "a client that does not trust the certificate is refused")
        let plain = try ChildProcess(Self.curl!, ["-s", "http://127.0.0.1:\(port)/healthz"], directory: dir).wait(timeout: 20)
        #expect(!plain.stdout.contains("serving"), "plain HTTP is not served on the TLS port")
        let missing = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/other.sock", "--http", "0",
                                                                        "--http-tokens", dir + "/tokens", "--http-tls-cert", dir + "/none.pem",
                                                                        "--http-tls-key", dir + "/key.pem"], directory: dir).wait(timeout: 20)
        #expect(missing.status == 1 && missing.stderr.contains("--http-tls-cert"), "\(missing.stderr)")
    }

    @Test(.enabled(if: curl != nil && openssl != nil, "needs curl and openssl"))
    func readmesHTTPExampleRunsAsWritten() throws {
        let port = freeTCPPort()
        let script = try readmeExample(under: "## The HTTP API").replacingOccurrences(of: "8080", with: String(port))
        #expect(script.contains("routerd --socket api.sock --http"), "the section's first block is the example")
        let dir = makeTemporaryDirectory("readme-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = productsDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let run = try ChildProcess("/bin/bash", ["-c", "set -e\ncd \(dir)\n" + script],
                                   environment: ["PATH": path, "ROUTER_SOCKET": dir + "/r.sock"], directory: dir).wait(timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 4, "\(run.stdout)")
        #expect(lines.first?.contains(#""key":"foo.localhost""#) == true)
        #expect(lines.dropFirst().first?.contains(#""match":"exact""#) == true)
        #expect(lines.last?.hasPrefix("foo.localhost ") == true, "routerctl --url answers as on the socket")
    }

    @Test func startUpFailuresNameTheFlagTheAddressAndTheCauseInOneLine() throws {
        let dir = makeTemporaryDirectory("http-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tokens = dir + "/tokens"
        try "alice \(alice)\n".write(toFile: tokens, atomically: false, encoding: .utf8)
        chmod(tokens, 0o600)
        func start(_ arguments: [String]) throws -> Finished {
            try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/r.sock"] + arguments, directory: dir).wait(timeout: 20)
        }
        // A routerd already running, and a port another process holds.
        let holder = try RouterdProcess([])
        defer { _ = try? holder.stop() }
        // Port 0: the kernel picks one, read back once bound.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        listen(listener, 1)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let taken = Int(UInt16(bigEndian: address.sin_port))
        let inUse = try start(["--http", "\(taken)", "--http-tokens", tokens])
        #expect(inUse.status == 1 && inUse.stderr == "routerd: cannot listen on --http 127.0.0.1:\(taken): Address already in use: " +
                "another process listens there; stop it or choose another port\n", "\(inUse.stderr)")
        let foreign = try start(["--http", "192.0.2.1:\(taken)", "--http-tokens", tokens])
        #expect(foreign.status == 1 && foreign.stderr.contains("--http 192.0.2.1:\(taken): Cannot assign requested address"), "\(foreign.stderr)")
        let noCert = try start(["--http", "0", "--http-tokens", tokens, "--http-tls-cert", dir + "/none.pem", "--http-tls-key", tokens])
        #expect(noCert.status == 1 && noCert.stderr == "routerd: cannot read --http-tls-cert \(dir)/none.pem: No such file or directory\n", "\(noCert.stderr)")
        let notCert = try start(["--http", "0", "--http-tokens", tokens, "--http-tls-cert", tokens, "--http-tls-key", tokens])
        #expect(notCert.status == 1 && notCert.stderr.contains("--http-tls-cert \(tokens) holds no PEM certificate"), "\(notCert.stderr)")
        // The socket of another routerd: its own message, nothing from SwiftNIO before it.
        let twice = try ChildProcess(productsDirectory + "/routerd", ["--socket", holder.socket], directory: dir).wait(timeout: 20)
        #expect(twice.status == 1 && twice.stderr == "routerd: another routerd is already answering on \(holder.socket); stop it or choose another --socket\n",
                "\(twice.stderr)")
    }

    @Test func routerdRefusesATokenFileOthersMayReadOrAMalformedOne() throws {
        let dir = makeTemporaryDirectory("http-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/tokens"
        try "alice \(alice)\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o640)
        let open = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/r.sock", "--http", "0", "--http-tokens", path],
                                    directory: dir).wait(timeout: 20)
        #expect(open.status == 1 && open.stderr.contains("readable by group or others"), "\(open.stderr)")
        try "alice\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o600)
        let malformed = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/r.sock", "--http", "0", "--http-tokens", path],
                                         directory: dir).wait(timeout: 20)
        #expect(malformed.status == 1 && malformed.stderr.contains("line 1"), "\(malformed.stderr)")
        let noTokens = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/r.sock", "--http", "8080"], directory: dir).wait(timeout: 20)
        #expect(noTokens.status == 64 && noTokens.stderr.contains("--http-tokens"))
    }
}

@Suite("HTTP connection bounds")
struct HTTPConnectionBoundsTests {
    /// routerd (the built binary) with the HTTP API on a free port; `extra` flags after.
    func start(_ extra: [String]) throws -> (RouterdProcess, Int, String) {
        let dir = makeTemporaryDirectory("bounds-")
        _ = FileManager.default.createFile(atPath: dir + "/tokens", contents: Data("ops 0123456789abcdef0123 admin\n".utf8),
                                       attributes: [.posixPermissions: 0o600])
        let daemon = try RouterdProcess(["--http", "0", "--http-tokens", dir + "/tokens"] + extra)
        return (daemon, try daemon.httpPort(), dir)
    }

    static func connect(_ port: Int) -> Int32 { connectTCP(port: port) }

    /// Whatever arrives on `fd` until it closes or `timeout` seconds pass; nil when still open.
    static func readUntilClosed(_ fd: Int32, timeout: Double) -> String? {
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return String(decoding: received, as: UTF8.self) }
            received += chunk[..<n]
        }
        return nil
    }

    @Test func aClientTricklingItsHeadersIsCut() throws {
        let (daemon, port, dir) = try start(["--http-header-timeout", "1s"])
        defer { _ = try? daemon.stop(); try? FileManager.default.removeItem(atPath: dir) }
        let fd = Self.connect(port)
        defer { close(fd) }
        let started = Date()
        for part in ["GET /healthz HTTP/1.1\r\n", "Host: x\r\n"] {
            _ = part.withCString { write(fd, $0, strlen($0)) }
            usleep(300_000)
        }
        #expect(Self.readUntilClosed(fd, timeout: 5) != nil, "closed")
        let took = Date().timeIntervalSince(started)
        #expect(took >= 0.9 && took < 4, "cut after the header timeout (\(took) s)")
        // A whole request in time is served as usual.
        let served = Self.connect(port)
        defer { close(served) }
        _ = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".withCString { write(served, $0, strlen($0)) }
        #expect(Self.readUntilClosed(served, timeout: 5)?.hasPrefix("HTTP/1.1 200") == true)
    }

    @Test func httpConnectionsCountTowardMaxConnections() throws {
        let (daemon, port, dir) = try start(["--max-connections", "2"])
        defer { _ = try? daemon.stop(); try? FileManager.default.removeItem(atPath: dir) }
        // Two kept-alive HTTP connections hold the two places. The launcher's check of the
        // socket may still be counted a moment, and then one of them is refused instead: hold
        // two fresh ones until both are served.
        var held: [Int32] = []
        defer { held.forEach { close($0) } }
        #expect(eventually {
            held.forEach { close($0) }
            held = (0..<2).map { _ in Self.connect(port) }
            return held.allSatisfy { fd in
                _ = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".withCString { write(fd, $0, strlen($0)) }
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 5000) > 0 else { return false }
                var chunk = [UInt8](repeating: 0, count: 4096)
                return String(decoding: chunk[..<max(0, read(fd, &chunk, chunk.count))], as: UTF8.self).hasPrefix("HTTP/1.1 200")
            }
        }, "two kept-alive connections are served")
        let third = Self.connect(port)
        defer { close(third) }
        _ = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".withCString { write(third, $0, strlen($0)) }
        let refused = Self.readUntilClosed(third, timeout: 5) ?? ""
        #expect(refused.hasPrefix("HTTP/1.1 503") && refused.lowercased().contains("retry-after: 1"), "\(refused)")
        // The socket shares the limit.
        let client = try LineClient(path: daemon.socket, readGreeting: false)
        #expect(try client.readJSON()["error"]?["code"] == .string("unavailable"))
    }
}
