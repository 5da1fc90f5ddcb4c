import Foundation
import RouterEngine
import RouterProtocol
import RouterTestSupport

/// Memory of a routerd process (the release binary beside router-bench, so that nothing of the
/// load generator is counted) through rounds of watchers that never read: each round connects
/// `watchers` watchers, adds `adds` routes over one pipelined connection, waits until every
/// watcher has been cut (`slow_consumer`) and gone, then deletes the routes (one tunnel). The
/// figure is the resident memory after the rounds against two baselines measured in the same
/// run: the idle daemon just started, and the same daemon after a first round without
/// watchers (its event history is then full, as any daemon's is after that many changes).
struct WatcherMemoryBenchmark {
    var rounds = 10
    var adds = 200_000
    var watchers = 5

    func run() throws {
        let routerd = try RouterdProcess(["--domain", "example.com", "--log-level", "error"])
        defer { _ = try? routerd.stop() }
        let pid = routerd.process.pid
        let socket = routerd.socket
        let control = try LineClient(path: socket)
        print("router-bench watchers: \(rounds) rounds of \(watchers) watchers that never read during \(adds) adds, then a delete of them all; routerd's RSS (release binary, its own process)")
        usleep(300_000)
        let idle = Self.resident(pid)
        var peak = idle
        var after: [Int] = []
        var warm = idle
        for round in 0...rounds {
            var silent: [LineClient] = []
            for i in 0..<(round == 0 ? 0 : watchers) {
                let watcher = try LineClient(path: socket)
                try watcher.send(#"{"id":"w\#(i)","op":"watch"}"#)
                silent.append(watcher)
            }
            _ = try control.request(#"{"op":"ping"}"#)
            let writer = try LineClient(path: socket)
            var sent = 0
            while sent < adds {
                let chunk = min(1000, adds - sent)
                var lines: [UInt8] = []
                lines.reserveCapacity(chunk * 80)
                for i in sent..<(sent + chunk) {
                    lines += Array(#"{"op":"add","key":"r\#(round)-\#(i)","tunnel":"bulk"}"#.utf8)
                    lines.append(0x0A)
                }
                try writer.sendRaw(lines)
                for _ in 0..<chunk { _ = try writer.readLine(timeout: 30) }
                sent += chunk
                if sent % 20_000 == 0 { peak = max(peak, Self.resident(pid)) }
            }
            // Every watcher cut and its connection gone: only the control and the writer remain.
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                let stats = try control.request(#"{"op":"stats"}"#)
                peak = max(peak, Self.resident(pid))
                if stats["result"]?["connections"] == .number(2) && stats["result"]?["watchers"] == .number(0) { break }
                usleep(100_000)
            }
            _ = try writer.request(#"{"op":"delete","key":"uuid:bulk"}"#)
            writer.close()
            silent.forEach { $0.close() }
            usleep(1_500_000) // the daemon hands freed pages back a second after a cut
            let now = Self.resident(pid)
            if round == 0 {
                warm = now
                print("round  0   RSS after \(pad(fmt(Double(now) / 1_048_576, 1), 7)) MB   (no watchers: the event history is now full)")
            } else {
                after.append(now)
                print("round \(pad(String(round), 2))   RSS after \(pad(fmt(Double(now) / 1_048_576, 1), 7)) MB")
            }
        }
        let last = after.last ?? idle
        let mb = { (bytes: Int) in fmt(Double(bytes) / 1_048_576, 1) }
        print("idle \(mb(idle)) MB   full history \(mb(warm)) MB   peak \(mb(peak)) MB   after \(rounds) rounds \(mb(last)) MB")
        print("ratio to the idle daemon \(fmt(Double(last) / Double(idle)))   to the same daemon with a full history \(fmt(Double(last) / Double(warm)))")
        print(#"{"bench":"watchers","rounds":\#(rounds),"adds":\#(adds),"watchers":\#(watchers),"idle_rss_bytes":\#(idle),"full_history_rss_bytes":\#(warm),"peak_rss_bytes":\#(peak),"after_rss_bytes":\#(last),"ratio_to_idle":\#(fmt(Double(last) / Double(idle), 3)),"ratio_to_full_history":\#(fmt(Double(last) / Double(warm), 3))}"#)
    }

    /// VmRSS of `pid` in bytes, from /proc.
    static func resident(_ pid: pid_t) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return digits * 1024
        }
        return 0
    }
}
