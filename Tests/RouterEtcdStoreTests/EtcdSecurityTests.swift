import Foundation
import RouterProtocol
import RouterTestSupport
import Testing

/// routerd on an etcd that serves TLS only, asks for a client certificate, and has
/// authentication on.
@Suite("etcd store: TLS and authentication", .serialized, .enabled(if: etcdInstalled && opensslPath != nil, "needs etcd and openssl"))
struct EtcdSecurityTests {
    @Test func aClientCertificateAndAUserFromTheEnvironmentOrAFile() throws {
        let dir = makeTemporaryDirectory("etcd-tls-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeTestCertificate(in: dir)
        // Self-signed certificates: the members' (also their CA), and routerd's client
        // certificate, without a CommonName (etcd's gateway refuses one with a CommonName while
        // authentication is on; the user comes from the password).
        let server = dir + "/cert.pem", serverKey = dir + "/key.pem"
        let made = try ChildProcess(opensslPath!, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", dir + "/client-key.pem",
                                                   "-out", dir + "/client.pem", "-subj", "/O=domain-router test client"], directory: dir).wait()
        #expect(made.status == 0, "\(made.stderr)")
        let cert = dir + "/client.pem", key = dir + "/client-key.pem"
        chmod(key, 0o600)
        let authorities = dir + "/authorities.pem"
        try (String(contentsOfFile: server, encoding: .utf8) + String(contentsOfFile: cert, encoding: .utf8)).write(toFile: authorities, atomically: true, encoding: .utf8)
        let tls = ["--cacert", server, "--cert", server, "--key", serverKey]
        let etcd = try EtcdClusterProcess(members: 1, extra: ["--cert-file", server, "--key-file", serverKey, "--client-cert-auth",
                                                              "--trusted-ca-file", authorities], scheme: "https", etcdctlFlags: tls)
        defer { etcd.stop() }
        #expect(etcd.etcdctl(["user", "add", "root:rootpw"]).status == 0)
        #expect(etcd.etcdctl(["user", "grant-role", "root", "root"]).status == 0)
        #expect(etcd.etcdctl(["user", "add", "router:s3cret"]).status == 0)
        #expect(etcd.etcdctl(["role", "add", "router"]).status == 0)
        #expect(etcd.etcdctl(["role", "grant-permission", "router", "--prefix=true", "readwrite", "router/"]).status == 0)
        #expect(etcd.etcdctl(["user", "grant-role", "router", "router"]).status == 0)
        let enabled = etcd.etcdctl(["auth", "enable"])
        #expect(enabled.status == 0, "\(enabled.stderr)")
        let store = ["--store", etcd.url, "--store-ca", server, "--store-cert", cert, "--store-key", key]

        let fromEnvironment = try RouterdProcess(store, environment: ["ROUTER_ETCD_USER": "router", "ROUTER_ETCD_PASSWORD": "s3cret"])
        let client = try LineClient(path: fromEnvironment.socket)
        #expect(client.greeting["store"]?["kind"] == .string("etcd"))
        #expect(try client.request(#"{"id":1,"op":"add","key":"x","tunnel":"t"}"#)["ok"] == .bool(true))
        try fromEnvironment.stop()
        let head = etcd.etcdctl(["--user", "root:rootpw", "get", "--print-value-only", "router/head"])
        #expect(head.stdout.hasPrefix("1 "), "\(head.stdout) \(head.stderr)")

        _ = FileManager.default.createFile(atPath: dir + "/pw", contents: Data("router:s3cret\n".utf8), attributes: [.posixPermissions: 0o600])
        let fromFile = try RouterdProcess(store + ["--store-password-file", dir + "/pw"])
        let second = try LineClient(path: fromFile.socket)
        #expect(try second.request(#"{"id":2,"op":"lookup","key":"x"}"#)["ok"] == .bool(true))
        try fromFile.stop()

        // Refused, each with its reason: a wrong password, no client certificate, a key others read.
        let wrong = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/w.sock"] + store,
                                     environment: ["ROUTER_ETCD_USER": "router", "ROUTER_ETCD_PASSWORD": "nope"], directory: dir).wait(timeout: 30)
        #expect(wrong.status == 1 && wrong.stderr.contains("user router could not log in"), "\(wrong.stderr)")
        let noCertificate = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/n.sock", "--store", etcd.url, "--store-ca", server],
                                             environment: ["ROUTER_ETCD_USER": "router", "ROUTER_ETCD_PASSWORD": "s3cret"], directory: dir).wait(timeout: 30)
        #expect(noCertificate.status == 1 && noCertificate.stderr.contains("cannot open --store"), "\(noCertificate.stderr)")
        let named = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/c.sock", "--store", etcd.url, "--store-ca", server,
                                                                      "--store-cert", server, "--store-key", serverKey],
                                     environment: ["ROUTER_ETCD_USER": "router", "ROUTER_ETCD_PASSWORD": "s3cret"], directory: dir).wait(timeout: 30)
        #expect(named.status == 1 && named.stderr.contains("without a CommonName"), "\(named.stderr)")
        chmod(key, 0o644)
        let readable = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/r.sock"] + store,
                                        environment: ["ROUTER_ETCD_USER": "router", "ROUTER_ETCD_PASSWORD": "s3cret"], directory: dir).wait(timeout: 30)
        #expect(readable.status == 1 && readable.stderr.contains("readable by group or others"), "\(readable.stderr)")
        let inURL = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/u.sock", "--store", "etcd://u:p@127.0.0.1:2379"],
                                     directory: dir).wait(timeout: 30)
        #expect(inURL.status == 64 && inURL.stderr.contains("ROUTER_ETCD_USER"), "\(inURL.stderr)")
    }
}

@Suite("routerd --store etcd://: start-up")
struct EtcdStartTests {
    @Test(.enabled(if: etcdInstalled, "needs etcd (scripts/install-packages.sh test)"))
    func aMemberAddressWhereSomethingElseAnswersIsPassedOverAndNamedWhenNothingElseAnswers() throws {
        // What a Go server answers a path it does not serve: an etcd peer port, say.
        let other = try ScriptedBackend(keepsOpen: true)
        other.answer("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 19\r\n\r\n404 page not found\n")
        let dir = makeTemporaryDirectory("notetcd-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let alone = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/r.sock", "--store", "etcd://\(other.target)"],
                                     directory: dir).wait(timeout: 30)
        #expect(alone.status == 1, "\(alone.stderr)")
        #expect(alone.stderr.contains("not etcd: \(other.target) answered kv/range with HTTP 404: 404 page not found; is it an etcd (3.4 or newer) client port?"),
                "\(alone.stderr)")
        // Listed before a real member: routerd starts on the member, and changes go through.
        let etcd = try EtcdClusterProcess(members: 1)
        defer { etcd.stop() }
        let daemon = try RouterdProcess(["--store", "etcd://\(other.target),\(etcd.members[0].client)", "--store-prefix", "t",
                                         "--domain", "example.com"])
        defer { _ = try? daemon.stop() }
        let client = try LineClient(path: daemon.socket)
        #expect(try client.request(#"{"id":1,"op":"add","key":"through","tunnel":"t"}"#)["ok"] == .bool(true))
        #expect(etcd.etcdctl(["get", "--prefix", "t/"]).stdout.contains("through.example.com"))
    }

    @Test func routerdDoesNotStartWithoutItsEtcdAndSaysWhy() throws {
        let dir = makeTemporaryDirectory("noetcd-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func start(_ arguments: [String]) throws -> Finished {
            try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/r.sock"] + arguments, directory: dir).wait(timeout: 30)
        }
        // Nothing listens: one line, the flag, the members, the cause.
        let refused = try start(["--store", "etcd://127.0.0.1:1,127.0.0.1:2"])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.hasPrefix("routerd: cannot open --store etcd://127.0.0.1:1,127.0.0.1:2 (etcd at etcd://127.0.0.1:1,127.0.0.1:2, prefix router): etcd unreachable: 127.0.0.1:"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        // Bad command lines, each named.
        for (arguments, says) in [
            (["--store", "etcd://"], "names no member"),
            (["--store", "etcd://a:1,,b:2"], "empty member between commas"),
            (["--store", "etcd://host:99999"], "not between 1 and 65535"),
            (["--store", "etcd://host:2379/prefix"], "--store-prefix"),
            (["--store", "etcd://[::1"], "closing ]"),
            (["--store", "etcd://u:p@host"], "ROUTER_ETCD_USER"),
            (["--store", "etcd://host", "--store-ca", "ca.pem"], "etcds://"),
            (["--store", "etcds://host", "--store-cert", "c.pem"], "go together"),
            (["--store", "redis://host:6379", "--store-ca", "ca.pem"], "etcds://"),
        ] {
            let run = try start(arguments)
            #expect(run.status == 64 && run.stderr.contains(says), "\(arguments): \(run.stderr)")
        }
    }
}
