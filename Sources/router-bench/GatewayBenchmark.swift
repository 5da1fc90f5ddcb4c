#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Foundation
import RouterTestSupport

/// `router-bench gateway`: requests through a release routergw (following a release routerd
/// with 1,000 routes) beside HAProxy routing the same 1,000 names by a map, all to the same real
/// backend (nginx, one worker, `return 200`), loaded by the same wrk (`-t1 -c50`, cycling the
/// names) in the same run, alternating: clients that keep their connections, then clients that
/// close after each request. routergw runs twice, with its access log at its default level
/// (`info`, a line a request) and without it (`notice`); HAProxy logs nothing. Also each
/// proxy's CPU time per request, and how long an add takes to reach the data path.
struct GatewayBenchmark {
    var seconds = 5
    var rounds = 3
    var routes = 1000
    var propagations = 200

    static let haproxy = ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let nginx = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// One wrk run: requests per second, the 99th percentile in ms, the proxy's CPU per request.
    struct Load {
        var rps: Double
        var p99: Double
        var cpuMicroseconds: Double
    }

    func run() throws {
        guard let haproxy = Self.haproxy, let wrk = Self.wrk, let nginx = Self.nginx else {
            throw LaunchError("router-bench gateway needs haproxy, wrk and nginx: scripts/install-packages.sh bench installs them")
        }
        let dir = makeTemporaryDirectory("gwb-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let backendPort = freeTCPPort()
        let backend = try startNginx(nginx, port: backendPort, dir: dir)
        defer { backend.signalGroup(SIGKILL); backend.wait() }
        let target = "127.0.0.1:\(backendPort)"
        let routerd = try RouterdProcess(["--domain", "example.com", "--log-level", "warning"])
        defer { _ = try? routerd.stop() }
        let admin = try LineClient(path: routerd.socket)
        defer { admin.close() }
        var batch = ""
        for i in 0..<routes { batch += #"{"op":"add","key":"app\#(i)","tunnel":"t\#(i)","target":"\#(target)"}"# + "\n" }
        try admin.send(batch.dropLast().description)
        for _ in 0..<routes { _ = try admin.readJSON() }
        let logged = try GatewayProcess(following: routerd.socket)
        defer { _ = try? logged.stop() }
        let quiet = try GatewayProcess(following: routerd.socket, ["--log-level", "notice"])
        defer { _ = try? quiet.stop() }

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
              server s1 \(target)
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
        // wrk spreads its requests over every name; the second script closes after each.
        for (name, extra) in [("keepalive", ""), ("close", #", ["Connection"] = "close""#)] {
            try """
                local n = 0
                request = function()
                  n = n + 1
                  return wrk.format("GET", "/", {["Host"] = "app" .. (n % \(routes)) .. ".example.com"\(extra)})
                end

                """.write(toFile: dir + "/\(name).lua", atomically: false, encoding: .utf8)
        }
        print("router-bench gateway: \(routes) routes to nginx (1 worker); wrk -t1 -c50 -d\(seconds)s over every name; \(rounds) rounds alternating; \(ProcessInfoLite.cpuCount) cores; \(HAProxyVersion.of(haproxy))")
        let contenders: [(name: String, port: Int, pid: pid_t)] = [
            ("routergw", logged.httpPort, logged.process.pid), ("routergw-nolog", quiet.httpPort, quiet.process.pid),
            ("haproxy", haproxyPort, proxy.pid),
        ]
        var results: [String: [Load]] = [:]
        for round in 1...rounds {
            for mode in ["keepalive", "close"] {
                var line = "round \(round) \(mode):"
                for contender in contenders {
                    let load = try self.load(wrk, port: contender.port, pid: contender.pid, script: mode, dir: dir)
                    results["\(contender.name) \(mode)", default: []].append(load)
                    line += " \(contender.name) \(fmt(load.rps, 0)) req/s p99 \(fmt(load.p99, 2)) ms \(fmt(load.cpuMicroseconds, 1)) µs CPU;"
                }
                print(line)
            }
        }
        let (p50, p99) = try propagation(admin: admin, gatewayPort: logged.httpPort, target: target)
        print("")
        var json = #"{"bench":"gateway","routes":\#(routes),"backend":"nginx""#
        for mode in ["keepalive", "close"] {
            let h = results["haproxy \(mode)"]!
            let hRPS = median(h.map(\.rps)), hP99 = median(h.map(\.p99)), hCPU = median(h.map(\.cpuMicroseconds))
            for name in ["routergw", "routergw-nolog"] {
                let g = results["\(name) \(mode)"]!
                let gRPS = median(g.map(\.rps)), gP99 = median(g.map(\.p99)), gCPU = median(g.map(\.cpuMicroseconds))
                print("\(mode), \(name == "routergw" ? "access log on " : "access log off"): routergw \(fmt(gRPS, 0)) req/s (\(fmt(gRPS / hRPS, 3))× HAProxy's \(fmt(hRPS, 0)); goal ≥ 0.8), "
                      + "p99 \(fmt(gP99, 2)) ms (\(fmt(gP99 / hP99, 2))× HAProxy's \(fmt(hP99, 2)); goal ≤ 1.5), CPU \(fmt(gCPU, 1)) µs a request (HAProxy \(fmt(hCPU, 1)))")
                let tag = name == "routergw" ? "\(mode)" : "\(mode)_nolog"
                json += #","\#(tag)_rps":\#(fmt(gRPS, 0)),"\#(tag)_ratio_rps":\#(fmt(gRPS / hRPS, 3)),"\#(tag)_p99_ms":\#(fmt(gP99, 3)),"#
                    + #""\#(tag)_ratio_p99":\#(fmt(gP99 / hP99, 3)),"\#(tag)_cpu_us":\#(fmt(gCPU, 2))"#
            }
            json += #","\#(mode)_haproxy_rps":\#(fmt(hRPS, 0)),"\#(mode)_haproxy_p99_ms":\#(fmt(hP99, 3)),"\#(mode)_haproxy_cpu_us":\#(fmt(hCPU, 2))"#
        }
        print("add → first 200:       p50 \(fmt(p50, 2)) ms, p99 \(fmt(p99, 2)) ms over \(propagations) adds  (goal ≤ 50 ms)")
        print(json + #","propagation_p50_ms":\#(fmt(p50, 3)),"propagation_p99_ms":\#(fmt(p99, 3))}"#)
    }

    /// nginx in the foreground with one worker answering 200 to everything, all its files in
    /// `dir`; returns once it accepts connections.
    func startNginx(_ nginx: String, port: Int, dir: String) throws -> ChildProcess {
        try FileManager.default.createDirectory(atPath: dir + "/nginx", withIntermediateDirectories: true)
        try """
            daemon off;
            worker_processes 1;
            pid \(dir)/nginx/nginx.pid;
            error_log \(dir)/nginx/error.log;
            events { worker_connections 4096; }
            http {
              access_log off;
              client_body_temp_path \(dir)/nginx/body;
              proxy_temp_path \(dir)/nginx/proxy;
              fastcgi_temp_path \(dir)/nginx/fastcgi;
              uwsgi_temp_path \(dir)/nginx/uwsgi;
              scgi_temp_path \(dir)/nginx/scgi;
              keepalive_requests 1000000;
              server {
                listen 127.0.0.1:\(port);
                location / { return 200 "ok\\n"; }
              }
            }

            """.write(toFile: dir + "/nginx/nginx.conf", atomically: false, encoding: .utf8)
        // Its own process group: stopping the group stops the worker with the master.
        let process = try ChildProcess(nginx, ["-c", dir + "/nginx/nginx.conf", "-p", dir + "/nginx"], directory: dir,
                                       ownProcessGroup: true)
        guard eventually(timeout: 10, { let fd = connectTCP(port: port); if fd >= 0 { close(fd) }; return fd >= 0 }) else {
            throw LaunchError("nginx did not listen: \(process.stderr)")
        }
        return process
    }

    /// One wrk run against `port` with `script`: requests per second, the 99th percentile in ms,
    /// and the CPU time (user and system) process `pid` spent per request.
    func load(_ wrk: String, port: Int, pid: pid_t, script: String, dir: String) throws -> Load {
        let cpuBefore = Self.cpuTicks(pid)
        let run = try ChildProcess(wrk, ["-t1", "-c50", "-d\(seconds)s", "--latency", "-s", dir + "/\(script).lua", "http://127.0.0.1:\(port)/"],
                                   directory: dir).wait(timeout: Double(seconds) + 30)
        let cpu = Double(Self.cpuTicks(pid) - cpuBefore) / Double(sysconf(Int32(_SC_CLK_TCK)))
        guard run.status == 0,
              let rpsLine = run.stdout.split(separator: "\n").first(where: { $0.contains("Requests/sec:") }),
              let rps = Double(rpsLine.split(separator: " ").last ?? ""),
              let countLine = run.stdout.split(separator: "\n").first(where: { $0.contains(" requests in ") }),
              let count = Double(countLine.split(separator: " ").first ?? ""), count > 0,
              let p99Line = run.stdout.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("99%") }),
              let p99 = Self.milliseconds(String(p99Line.split(separator: " ").last ?? ""))
        else { throw LaunchError("wrk on port \(port) failed: \(run.stdout)\(run.stderr)") }
        if let errors = run.stdout.split(separator: "\n").first(where: { $0.contains("Non-2xx") || $0.contains("Socket errors") }) {
            throw LaunchError("wrk on port \(port) saw failures: \(errors)")
        }
        return Load(rps: rps, p99: p99, cpuMicroseconds: cpu / count * 1e6)
    }

    /// utime + stime of `pid` (and its threads), in clock ticks.
    static func cpuTicks(_ pid: pid_t) -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3; utime and stime are fields 14 and 15.
        guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return 0 }
        return user + system
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
