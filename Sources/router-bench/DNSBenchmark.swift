#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Foundation
import RouterTestSupport

/// `router-bench dns`: routerd's DNS beside NSD serving the same names from a zone file, both
/// under dnsperf in alternating rounds (queries/s, medians); then, with BIND 9 as routerd's
/// secondary, the time from an add on routerd until the secondary answers the name (NOTIFY,
/// IXFR), p50 and p99. Needs dnsperf, nsd and named (scripts/install-packages.sh bench).
struct DNSBenchmark {
    var names = 100_000
    var seconds = 5
    var rounds = 3
    var propagations = 50

    static func tool(_ candidates: [String]) -> String? {
        candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func run() throws {
        guard let dnsperf = Self.tool(["/usr/bin/dnsperf"]), let nsd = Self.tool(["/usr/sbin/nsd"]), NamedProcess.isInstalled else {
            throw LaunchError("router-bench dns needs dnsperf, nsd and named: scripts/install-packages.sh bench installs them")
        }
        let dir = makeTemporaryDirectory("dnsb-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let secondaryPort = Int.random(in: 20_000...40_000)
        try "key \"routerd\" { algorithm hmac-sha256; secret \"\(Self.secret)\"; };\n".write(toFile: dir + "/tsig.key", atomically: true, encoding: .utf8)
        chmod(dir + "/tsig.key", 0o600)
        let routerd = try RouterdProcess(["--domain", "example.com", "--dns", "127.0.0.1:0", "--dns-address", "192.0.2.10",
                                          "--dns-ns", "ns1.example.com=192.0.2.53", "--dns-notify", "127.0.0.1:\(secondaryPort)",
                                          "--dns-transfer-allow", "127.0.0.1/32", "--dns-tsig-keys", dir + "/tsig.key", "--audit-log", "none"])
        defer { _ = try? routerd.stop() }
        let routerdPort = try routerd.dnsPort()
        let admin = try LineClient(path: routerd.socket)
        defer { admin.close() }
        var batch = ""
        for i in 0..<names { batch += #"{"op":"add","key":"app\#(i)","tunnel":"t1"}"# + "\n" }
        try admin.send(batch.dropLast().description)
        for _ in 0..<names { _ = try admin.readJSON() }

        // NSD with the same names in a zone file.
        let nsdPort = freeTCPPort() // below the ephemeral range: no outgoing connection holds it
        var zone = "$TTL 30\n@ IN SOA ns1.example.com. hostmaster.example.com. 1 300 60 1209600 30\n@ IN NS ns1.example.com.\nns1 IN A 192.0.2.53\n"
        for i in 0..<names { zone += "app\(i) IN A 192.0.2.10\n" }
        try zone.write(toFile: dir + "/example.com.zone", atomically: false, encoding: .utf8)
        try """
            server:
                ip-address: 127.0.0.1@\(nsdPort)
                port: \(nsdPort)
                username: ""
                chroot: ""
                zonesdir: "\(dir)"
                database: ""
                zonelistfile: "\(dir)/zone.list"
                xfrdfile: "\(dir)/xfrd.state"
                pidfile: "\(dir)/nsd.pid"
                server-count: 1
                verbosity: 0
                # NSD's response-rate limiting is on by default; routerd's is off by default.
                rrl-ratelimit: 0
            remote-control:
                control-enable: no
            zone:
                name: "example.com"
                zonefile: "example.com.zone"

            """.write(toFile: dir + "/nsd.conf", atomically: false, encoding: .utf8)
        let nsdProcess = try ChildProcess(nsd, ["-c", dir + "/nsd.conf", "-d"], directory: dir)
        defer { nsdProcess.signal(SIGTERM); _ = nsdProcess.wait(timeout: 10) }
        try nsdProcess.waitUntil("NSD should answer on \(nsdPort)", timeout: 60) {
            (try? Dig.ask(port: nsdPort, ["app1.example.com", "A"]).answers.count) == 1
        }

        // The queries: every name once, in a shuffled order, and one in ten a name nobody routes.
        var generator = SystemRandomNumberGenerator()
        var queries = (0..<names).map { i -> String in i % 10 == 9 ? "none\(i).example.com A" : "app\(i).example.com A" }
        queries.shuffle(using: &generator)
        try (queries.joined(separator: "\n") + "\n").write(toFile: dir + "/queries.txt", atomically: false, encoding: .utf8)

        print("router-bench dns: \(names) names; dnsperf -c 20 -l \(seconds) over every name (10% NXDOMAIN); \(rounds) rounds alternating; \(ProcessInfoLite.cpuCount) cores")
        var ours: [Double] = []
        var theirs: [Double] = []
        for round in 1...rounds {
            for (label, port) in [("routerd", routerdPort), ("nsd", nsdPort)] {
                let qps = try perf(dnsperf, port: port, dir: dir)
                if label == "routerd" { ours.append(qps) } else { theirs.append(qps) }
                print("  round \(round) \(pad(label, 8)) \(fmt(qps, 0)) queries/s")
            }
        }
        let ratio = median(ours) / median(theirs)
        print("queries/s, routerd vs NSD: \(fmt(median(ours), 0)) vs \(fmt(median(theirs), 0)): \(fmt(ratio))  (goal ≥ 0.5, aim ≥ 1)")

        // BIND 9 as routerd's secondary: from an add until the secondary answers it.
        let secondary = try NamedProcess(port: secondaryPort) { folder in
            NamedProcess.options(folder: folder, port: secondaryPort) + """

                key "routerd" { algorithm hmac-sha256; secret "\(Self.secret)"; };
                zone "example.com" { type secondary; primaries port \(routerdPort) { 127.0.0.1 key routerd; };
                                     file "\(folder)/example.com.db"; allow-notify { 127.0.0.1; }; };
                """
        }
        try secondary.process.waitUntil("the secondary should load the zone", timeout: 120) {
            (try? Dig.ask(port: secondaryPort, ["app1.example.com", "A"]).answers.count) == 1
        }
        var latencies: [Double] = []
        for i in 0..<propagations {
            let name = "fresh\(i).example.com"
            let started = MonotonicTime.now()
            try admin.send(#"{"op":"add","key":"\#(name)","tunnel":"t1"}"#)
            _ = try admin.readJSON()
            guard try answered(name, port: secondaryPort, within: 10) else { throw LaunchError("the secondary never answered \(name)") }
            latencies.append(MonotonicTime.seconds(since: started) * 1000)
        }
        latencies.sort()
        let p50 = latencies[latencies.count / 2]
        let p99 = latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))]
        print("add → answered by the BIND secondary: p50 \(fmt(p50, 1)) ms, p99 \(fmt(p99, 1)) ms over \(propagations)  (goal p99 ≤ 1000 ms)")
        print("""
            {"bench":"dns","names":\(names),"routerd_qps":\(fmt(median(ours), 0)),"nsd_qps":\(fmt(median(theirs), 0)),\
            "ratio":\(fmt(ratio, 3)),"secondary_p50_ms":\(fmt(p50, 1)),"secondary_p99_ms":\(fmt(p99, 1))}
            """)
    }

    static let secret = "YmVuY2gtc2VjcmV0LWZvci1yb3V0ZXJkLWRucy1iZW5jaA=="

    /// One dnsperf run: queries per second.
    func perf(_ dnsperf: String, port: Int, dir: String) throws -> Double {
        let run = try ChildProcess(dnsperf, ["-s", "127.0.0.1", "-p", "\(port)", "-d", dir + "/queries.txt", "-c", "20", "-l", "\(seconds)", "-q", "200"],
                                   directory: dir).wait(timeout: Double(seconds) + 60)
        guard let line = run.stdout.split(separator: "\n").first(where: { $0.contains("Queries per second:") }),
              let value = line.split(separator: " ").last.flatMap({ Double($0) }) else {
            throw LaunchError("dnsperf against port \(port) printed no rate: \(run.stdout)\(run.stderr)")
        }
        if let lost = run.stdout.split(separator: "\n").first(where: { $0.contains("Queries lost:") }), !lost.contains(" 0 (") {
            print("    (dnsperf: \(lost.trimmingCharacters(in: .whitespaces)))")
        }
        return value
    }

    /// Whether `name` gets an A answer at `port` within `limit` seconds, asking every 2 ms over UDP.
    func answered(_ name: String, port: Int, within limit: Double) throws -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 0, tv_usec: 2000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // A query for NAME A without recursion, written by hand: id, flags 0, one question.
        var query: [UInt8] = [0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") { query.append(UInt8(label.utf8.count)); query += label.utf8 }
        query += [0, 0, 1, 0, 1]
        let started = MonotonicTime.now()
        while MonotonicTime.seconds(since: started) < limit {
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, query, query.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            var reply = [UInt8](repeating: 0, count: 512)
            let n = recv(fd, &reply, reply.count, 0)
            // NOERROR with one answer.
            if n >= 12, reply[3] & 0x0F == 0, reply[6] == 0, reply[7] >= 1 { return true }
        }
        return false
    }
}
