import DNSWire
import Foundation
import RouterTestSupport
import Testing

/// routerd's DNS as a resolver sees it: BIND's `dig` against a routerd process on a loopback
/// port, the routes changed with routerctl. Skipped where dig is not installed
/// (scripts/install-packages.sh test installs it).
@Suite("DNS answered by routerd, asked with dig", .serialized)
struct DNSDigTests {
    static let hasDig = Dig.isInstalled

    /// routerd serving example.com's DNS on a port of its own choosing.
    final class Daemon {
        let daemon: RouterdProcess
        let port: Int

        init(_ extra: [String] = []) throws {
            daemon = try RouterdProcess(["--domain", "example.com", "--dns", "127.0.0.1:0", "--dns-address", "192.0.2.10",
                                         "--dns-address", "2001:db8::10", "--dns-ns", "ns1.example.com=192.0.2.53",
                                         "--dns-negative-ttl", "5s"] + extra)
            port = try daemon.dnsPort()
        }

        deinit { _ = try? daemon.stop() }

        /// dig's answer at routerd's port.
        func dig(_ arguments: [String]) throws -> Dig.Answer {
            try Dig.ask(port: port, arguments)
        }

        func routerctl(_ arguments: [String]) throws -> Finished {
            try ChildProcess(productsDirectory + "/routerctl", ["--socket", daemon.socket] + arguments,
                             directory: NSTemporaryDirectory()).wait(timeout: 30)
        }
    }

    @Test(.enabled(if: hasDig, "needs dig (bind9-dnsutils)"))
    func exactAndWildcardRoutesResolveAndNothingElseDoes() throws {
        let dns = try Daemon()
        for key in ["app.example.com", "*.wild.example.com", "wild.example.com", "deep.x.y.example.com"] {
            #expect(try dns.routerctl(["add", key, "--tunnel", "t1"]).status == 0)
        }
        #expect(try dns.dig(["app.example.com", "A"]).answers == ["app.example.com. 30 IN A 192.0.2.10"])
        #expect(try dns.dig(["app.example.com", "AAAA"]).answers == ["app.example.com. 30 IN AAAA 2001:db8::10"])
        // The wildcard covers every depth, also below a name with its own route.
        #expect(try dns.dig(["a.b.wild.example.com", "A"]).answers == ["a.b.wild.example.com. 30 IN A 192.0.2.10"])
        #expect(try dns.dig(["wild.example.com", "A"]).answers.count == 1)
        // NODATA: a routed name asked for another type; a name that is only an ancestor.
        for (name, type) in [("app.example.com", "MX"), ("y.example.com", "A"), ("x.y.example.com", "AAAA")] {
            let answer = try dns.dig([name, type])
            #expect(answer.status == "NOERROR" && answer.answers.isEmpty, "\(name) \(type): \(answer.output)")
        }
        #expect(try dns.dig(["q.x.y.example.com", "A"]).status == "NXDOMAIN")
        #expect(try dns.dig(["example.net", "A"]).status == "REFUSED")
        // Over TCP the same.
        #expect(try dns.dig(["+tcp", "app.example.com", "A"]).answers == ["app.example.com. 30 IN A 192.0.2.10"])
    }

    @Test(.enabled(if: hasDig, "needs dig (bind9-dnsutils)"))
    func aDeletedOrExpiredRouteIsNXDomainAndTheSerialIsTheRevision() throws {
        let dns = try Daemon()
        #expect(try dns.routerctl(["add", "gone.example.com", "--tunnel", "t1"]).status == 0)
        #expect(try dns.routerctl(["add", "brief.example.com", "--tunnel", "t1", "--ttl", "1s"]).status == 0)
        #expect(try dns.dig(["gone.example.com", "A"]).status == "NOERROR")
        #expect(try dns.routerctl(["delete", "gone.example.com"]).status == 0)
        #expect(try dns.dig(["gone.example.com", "A"]).status == "NXDOMAIN")
        #expect(eventually(timeout: 15) { (try? dns.dig(["brief.example.com", "A"]).status) == "NXDOMAIN" }, "the TTL ran out")
        // The serial: when the instance began (its id's first 8 hex digits) plus the revision.
        let ping = try dns.routerctl(["ping", "-o", "json"]).stdout
        let stats = try dns.routerctl(["stats", "-o", "json"]).stdout
        guard let instance = ping.split(separator: "\"instance\":\"").last?.prefix(8), let start = UInt32(instance, radix: 16),
              let revisionText = stats.split(separator: "\"revision\":").last?.prefix(while: \.isNumber), let revision = UInt32(revisionText) else {
            Issue.record("ping \(ping), stats \(stats)")
            return
        }
        let soa = try dns.dig(["example.com", "SOA"]).answers.first ?? ""
        #expect(soa.split(separator: " ").dropFirst(6).first == "\(start &+ revision)", "\(soa), start \(start), revision \(revision)")
    }

    @Test(.enabled(if: hasDig, "needs dig (bind9-dnsutils)"))
    func anAnswerTooLongForUDPIsTruncatedAndDigRetriesOverTCP() throws {
        // 40 more addresses: 41 A records (with 192.0.2.10) are more than 512 bytes.
        let many = (1...40).flatMap { ["--dns-address", "198.51.100.\($0)"] }
        let dns = try Daemon(many)
        #expect(try dns.routerctl(["add", "big.example.com", "--tunnel", "t1"]).status == 0)
        let cut = try dns.dig(["+noedns", "+ignore", "big.example.com", "A"])
        #expect(cut.output.contains(" tc") && cut.answers.isEmpty, "\(cut.output)")
        let retried = try dns.dig(["+noedns", "big.example.com", "A"])
        #expect(retried.output.contains("Truncated, retrying in TCP mode") && retried.answers.count == 41, "\(retried.output)")
        // With EDNS's 1232 bytes, it fits in one datagram.
        #expect(try dns.dig(["+bufsize=1232", "big.example.com", "A"]).answers.count == 41)
    }

    @Test(.enabled(if: hasDig, "needs dig (bind9-dnsutils)"))
    func routerctlDNSSaysWhatDigGetsAndWhy() throws {
        let dns = try Daemon()
        #expect(try dns.routerctl(["add", "*.wild.example.com", "--tunnel", "t1"]).status == 0)
        let cases: [(name: String, why: String, status: Int32)] = [
            ("x.y.wild.example.com", "routed by the wildcard *.wild.example.com", 0),
            ("wild.example.com", "not routed, but routes lie below it", 0),
            ("nope.example.com", "nothing is routed at or below it", 1),
            ("example.org", "in none of the zones", 1),
        ]
        for (name, why, status) in cases {
            let told = try dns.routerctl(["dns", name])
            let dug = try dns.dig([name, "A"])
            #expect(told.status == status && told.stdout.contains(why) && told.stdout.contains(": \(dug.status),"), "\(name): \(told) vs \(dug.status)")
            for record in dug.answers { #expect(told.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }.contains(record)) }
        }
        let json = try dns.routerctl(["dns", "example.com", "SOA", "-o", "json"])
        #expect(json.stdout.contains(#""resolution":"apex""#) && json.stdout.contains(#""rcode":"NOERROR""#), "\(json)")
        let notServed = try RouterdProcess([])
        let refused = try ChildProcess(productsDirectory + "/routerctl", ["--socket", notServed.socket, "dns", "app.localhost"],
                                       directory: NSTemporaryDirectory()).wait(timeout: 30)
        #expect(refused.status == 2 && refused.stderr.contains("does not serve DNS"), "\(refused)")
        _ = try notServed.stop()
    }

    @Test(.enabled(if: hasDig, "needs dig (bind9-dnsutils)"))
    func aFloodToOneClientIsCutToItsRateWhileTCPAnswers() throws {
        let dns = try Daemon(["--dns-rate-limit", "5"])
        #expect(try dns.routerctl(["add", "app.example.com", "--tunnel", "t1"]).status == 0)
        let query = try DNSMessage(id: 9, questions: [DNSQuestion(name: try DNSName("app.example.com"), type: .a)]).bytes()
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(dns.port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 0, tv_usec: 300_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let started = Date()
        for _ in 0..<100 {
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, query, query.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        let elapsed = Date().timeIntervalSince(started)
        var full = 0
        var truncated = 0
        while true {
            var reply = [UInt8](repeating: 0, count: 2048)
            let n = recv(fd, &reply, reply.count, 0)
            guard n > 0, let answer = try? DNSMessage(parsing: Array(reply.prefix(n))) else { break }
            if answer.isTruncated { truncated += 1 } else { full += 1 }
        }
        // The burst (5), plus what refilled while the 100 went out: far from 100.
        #expect(full >= 5 && Double(full) <= 5 + 5 * (elapsed + 0.5), "\(full) full answers in \(elapsed) s")
        #expect(truncated > 20 && truncated < 60, "about every second answer past the rate slips out truncated: \(truncated)")
        #expect(try dns.dig(["+tcp", "app.example.com", "A"]).answers.count == 1, "TCP is not limited")
    }

    /// Mutated packets over UDP and TCP: routerd answers FORMERR or stays silent, and keeps
    /// answering everyone else.
    @Test(.enabled(if: hasDig, "needs dig (bind9-dnsutils)"))
    func mutatedPacketsGetFormErrOrNothingAndTheServerKeepsAnswering() throws {
        let dns = try Daemon()
        #expect(try dns.routerctl(["add", "app.example.com", "--tunnel", "t1"]).status == 0)
        var query = DNSMessage(id: 77, questions: [DNSQuestion(name: try DNSName("app.example.com"), type: .a)])
        query.edns = DNSMessage.EDNS(payloadSize: 1232)
        let seed = try query.bytes()
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(dns.port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var state: UInt64 = 0x0DD5
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        var answered = 0
        for _ in 0..<2000 {
            var bytes = seed
            for _ in 0...(next() % 3) {
                let at = Int(next() % UInt64(bytes.count))
                bytes[at] = UInt8(truncatingIfNeeded: next())
            }
            bytes[2] &= 0x7F  // a query, so that an answer is owed
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            var reply = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &reply, reply.count, 0)
            guard n > 0 else { continue }
            answered += 1
            let parsed = try DNSMessage(parsing: Array(reply.prefix(n)))
            #expect(parsed.isResponse && parsed.id == UInt16(bytes[0]) << 8 | UInt16(bytes[1]))
        }
        #expect(answered > 1000, "most mutated queries still get an answer (\(answered))")
        #expect(try dns.dig(["app.example.com", "A"]).answers == ["app.example.com. 30 IN A 192.0.2.10"])
        #expect(try dns.dig(["+tcp", "app.example.com", "A"]).answers.count == 1)
    }
}

/// Two routerd on one shared store (Redis, etcd) give the same SOA serial: it is the store's
/// revision from the store's own start, not either daemon's.
@Suite("DNS serials on a shared store")
struct DNSSharedSerialTests {
    static let dnsArguments = ["--dns", "127.0.0.1:0", "--dns-address", "192.0.2.10", "--dns-ns", "ns1.example.com=192.0.2.53"]

    @Test(.enabled(if: Dig.isInstalled, "needs dig"), arguments: SharedStoreKind.installed)
    func everyDaemonOnOneStoreGivesTheSameSerial(kind: SharedStoreKind) throws {
        let store = try SharedStoreDaemons(kind, daemons: 2, arguments: Self.dnsArguments)
        let (a, b) = (store.daemons[0], store.daemons[1])
        let (portA, portB) = (try a.dnsPort(), try b.dnsPort())
        for i in 0..<5 {
            _ = try ChildProcess(productsDirectory + "/routerctl", ["--socket", a.socket, "add", "s\(i).example.com", "--tunnel", "t1"],
                                 directory: NSTemporaryDirectory()).wait(timeout: 30)
        }
        func serial(_ port: Int) -> String? {
            (try? Dig.ask(port: port, ["example.com", "SOA"]).answers.first)?.split(separator: " ").dropFirst(6).first.map(String.init)
        }
        #expect(eventually { serial(portA) != nil && serial(portA) == serial(portB) && (try? Dig.ask(port: portB, ["s4.example.com", "A"]).answers.count) == 1 },
                "A \(serial(portA) ?? "-"), B \(serial(portB) ?? "-")")
    }

    /// A wiped store starts a new sequence; its serials still come after the old one's, even
    /// when the old one made more changes than seconds it lived.
    @Test(.enabled(if: Dig.isInstalled, "needs dig"), arguments: SharedStoreKind.installed)
    func aWipedStoreStartsItsSerialsAfterTheOldOnes(kind: SharedStoreKind) throws {
        let store = try SharedStoreDaemons(kind, daemons: 1, arguments: Self.dnsArguments)
        let daemon = store.daemons[0]
        let port = try daemon.dnsPort()
        func serial() -> UInt32? {
            (try? Dig.ask(port: port, ["example.com", "SOA"]).answers.first)?.split(separator: " ").dropFirst(6).first.flatMap { UInt32($0) }
        }
        let client = try LineClient(path: daemon.socket)
        defer { client.close() }
        // 200 changes in well under 200 seconds.
        try client.send((0..<200).map { #"{"op":"add","key":"s\#($0)","tunnel":"t1"}"# }.joined(separator: "\n"))
        for _ in 0..<200 { _ = try client.readJSON() }
        let before = try #require(serial())
        store.wipe()
        #expect(eventually(timeout: 30) { (try? Dig.ask(port: port, ["s1.example.com", "A"]).status) == "NXDOMAIN" }, "the reset reached routerd")
        let after = try #require(serial())
        #expect(after != before && (after &- before) < 0x8000_0000, "the serial went forward: \(before) → \(after)")
    }
}
