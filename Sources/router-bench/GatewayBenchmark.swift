#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Foundation
import RouterTestSupport

/// `router-bench gateway`: requests through a release routergw (following a release routerd
/// with 1,000 routes) beside HAProxy routing the same 1,000 names by a map, both to the same
/// backend (a SwiftNIO HTTP server in this process), loaded by the same wrk in the same run,
/// alternating; then how long an add takes to reach the data path (add sent → first 200).
struct GatewayBenchmark {
    var seconds = 5
    var rounds = 3
    var routes = 1000
    var propagations = 200

    static let haproxy = ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first { FileManager.default.isExecutableFile(atPath: $0) }

    func run() throws {
        guard let haproxy = Self.haproxy, let wrk = Self.wrk else {
            throw LaunchError("router-bench gateway needs haproxy and wrk (Debian: apt-get install haproxy wrk)")
        }
        let dir = makeTemporaryDirectory("gwb-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let backend = try HTTPBackend(name: "bench")
        defer { backend.stop() }
        let routerd = try RouterdProcess(["--domain", "example.com", "--log-level", "warning"])
        defer { _ = try? routerd.stop() }
        let admin = try LineClient(path: routerd.socket)
        defer { admin.close() }
        var batch = ""
        for i in 0..<routes { batch += #"{"op":"add","key":"app\#(i)","tunnel":"t\#(i)","target":"\#(backend.target)"}"# + "\n" }
        try admin.send(batch.dropLast().description)
        for _ in 0..<routes { _ = try admin.readJSON() }
        let gateway = try GatewayProcess(following: routerd.socket, ["--log-level", "notice"])
        defer { _ = try? gateway.stop() }

        // HAProxy: the same names in a map, each to the one backend; keep-alive both sides.
        let haproxyPort = freeTCPPort()
        var map = ""
        for i in 0..<routes { map += "app\(i).example.com be_app\n" }
        try map.write(toFile: dir + "/hosts.map", atomically: false, encoding: .utf8)
        try """
            global
              maxconn 4096
              nbthread \(ProcessInfoLite.cpuCount)
            defaults
              mode http
              option http-keep-alive
              option forwardfor
              timeout connect 5s
              timeout client 30s
              timeout server 30s
            frontend fe
              bind 127.0.0.1:\(haproxyPort)
              use_backend %[req.hdr(host),lower,map_str(\(dir)/hosts.map,be_miss)]
            backend be_app
              server s1 \(backend.target)
            backend be_miss
              http-request return status 404

            """.write(toFile: dir + "/haproxy.cfg", atomically: false, encoding: .utf8)
        let check = try ChildProcess(haproxy, ["-c", "-f", dir + "/haproxy.cfg"], directory: dir).wait()
        guard check.status == 0 else { throw LaunchError("haproxy refused its configuration: \(check.stdout)\(check.stderr)") }
        let proxy = try ChildProcess(haproxy, ["-db", "-f", dir + "/haproxy.cfg"], directory: dir)
        defer { proxy.signal(SIGKILL); proxy.wait() }
        guard eventually(timeout: 10, { let fd = connectTCP(port: haproxyPort); if fd >= 0 { close(fd) }; return fd >= 0 }) else {
            throw LaunchError("haproxy did not listen: \(proxy.stderr)")
        }
        // wrk spreads its requests over every name.
        try """
            local n = 0
            request = function()
              n = n + 1
              return wrk.format("GET", "/", {["Host"] = "app" .. (n % \(routes)) .. ".example.com"})
            end

            """.write(toFile: dir + "/hosts.lua", atomically: false, encoding: .utf8)
        print("router-bench gateway: \(routes) routes; wrk -t1 -c50 -d\(seconds)s over every name; \(rounds) rounds alternating; \(ProcessInfoLite.cpuCount) cores; \(HAProxyVersion.of(haproxy))")
        var gatewayRuns: [(rps: Double, p99: Double)] = []
        var haproxyRuns: [(rps: Double, p99: Double)] = []
        for round in 1...rounds {
            let g = try load(wrk, port: gateway.httpPort, dir: dir)
            let h = try load(wrk, port: haproxyPort, dir: dir)
            gatewayRuns.append(g)
            haproxyRuns.append(h)
            print("round \(round): routergw \(fmt(g.rps, 0)) req/s p99 \(fmt(g.p99, 2)) ms; haproxy \(fmt(h.rps, 0)) req/s p99 \(fmt(h.p99, 2)) ms")
        }
        let (p50, p99) = try propagation(admin: admin, gatewayPort: gateway.httpPort, target: backend.target)
        let gRPS = median(gatewayRuns.map(\.rps)), hRPS = median(haproxyRuns.map(\.rps))
        let gP99 = median(gatewayRuns.map(\.p99)), hP99 = median(haproxyRuns.map(\.p99))
        print("")
        print("requests/s (median):   routergw \(fmt(gRPS, 0)); haproxy \(fmt(hRPS, 0)); ratio \(fmt(gRPS / hRPS, 3))  (goal ≥ 0.5)")
        print("p99 latency (median):  routergw \(fmt(gP99, 2)) ms; haproxy \(fmt(hP99, 2)) ms; ratio \(fmt(gP99 / hP99, 2))  (goal ≤ 2)")
        print("add → first 200:       p50 \(fmt(p50, 2)) ms, p99 \(fmt(p99, 2)) ms over \(propagations) adds  (goal ≤ 50 ms)")
        print("""
            {"bench":"gateway","routes":\(routes),"gateway_rps":\(fmt(gRPS, 0)),"haproxy_rps":\(fmt(hRPS, 0)),\
            "ratio_rps":\(fmt(gRPS / hRPS, 3)),"gateway_p99_ms":\(fmt(gP99, 3)),"haproxy_p99_ms":\(fmt(hP99, 3)),\
            "ratio_p99":\(fmt(gP99 / hP99, 3)),"propagation_p50_ms":\(fmt(p50, 3)),"propagation_p99_ms":\(fmt(p99, 3))}
            """)
    }

    /// One wrk run against `port`: requests per second and the 99th percentile in ms.
    func load(_ wrk: String, port: Int, dir: String) throws -> (rps: Double, p99: Double) {
        let run = try ChildProcess(wrk, ["-t1", "-c50", "-d\(seconds)s", "--latency", "-s", dir + "/hosts.lua", "http://127.0.0.1:\(port)/"],
                                   directory: dir).wait(timeout: Double(seconds) + 30)
        guard run.status == 0,
              let rpsLine = run.stdout.split(separator: "\n").first(where: { $0.contains("Requests/sec:") }),
              let rps = Double(rpsLine.split(separator: " ").last ?? ""),
              let p99Line = run.stdout.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("99%") }),
              let p99 = Self.milliseconds(String(p99Line.split(separator: " ").last ?? ""))
        else { throw LaunchError("wrk on port \(port) failed: \(run.stdout)\(run.stderr)") }
        if let errors = run.stdout.split(separator: "\n").first(where: { $0.contains("Non-2xx") || $0.contains("Socket errors") }) {
            throw LaunchError("wrk on port \(port) saw failures: \(errors)")
        }
        return (rps, p99)
    }

    /// wrk's `12.34ms`, `850.00us`, `1.20s` in milliseconds.
    static func milliseconds(_ text: String) -> Double? {
        for (unit, scale) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where text.hasSuffix(unit) {
            return Double(text.dropLast(unit.count)).map { $0 * scale }
        }
        return nil
    }

    /// Adds routes one by one over the socket and, on a kept-alive connection to the gateway,
    /// asks for each until it answers 200: the time from sending the add, p50 and p99 in ms.
    func propagation(admin: LineClient, gatewayPort: Int, target: String) throws -> (Double, Double) {
        let fd = connectTCP(port: gatewayPort)
        guard fd >= 0 else { throw LaunchError("cannot connect to routergw") }
        defer { close(fd) }
        var times: [Double] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        for i in 0..<propagations {
            let request = Array("GET / HTTP/1.1\r\nHost: prop\(i).example.com\r\n\r\n".utf8)
            let start = MonotonicTime.now()
            try admin.send(#"{"id":\#(i),"op":"add","key":"prop\#(i)","tunnel":"p\#(i)","target":"\#(target)"}"#)
            var answered = false
            var polls = 0
            while !answered {
                polls += 1
                guard write(fd, request, request.count) == request.count else { throw LaunchError("write to routergw failed") }
                var got: [UInt8] = []
                while HTTPBenchmark.responseEnd(got, from: 0) == nil {
                    let n = read(fd, &buffer, buffer.count)
                    guard n > 0 else { throw LaunchError("routergw closed the connection") }
                    got += buffer[..<n]
                }
                answered = got.starts(with: Array("HTTP/1.1 200".utf8))
                if polls > 100_000 { throw LaunchError("prop\(i) never became routable") }
            }
            times.append(MonotonicTime.seconds(since: start) * 1000)
            _ = try admin.readJSON()
        }
        times.sort()
        return (times[times.count / 2], times[min(times.count - 1, Int(Double(times.count) * 0.99))])
    }
}

enum HAProxyVersion {
    static func of(_ path: String) -> String {
        let dir = makeTemporaryDirectory("hav-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try? ChildProcess(path, ["-v"], directory: dir).wait()
        return run?.stdout.split(separator: "\n").first.map { String($0.prefix(24)) } ?? "haproxy"
    }
}
