import Foundation
import RouterProtocol

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
        let directory = temporaryDirectory("rw-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let routerd = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("routerd").path
        guard FileManager.default.isExecutableFile(atPath: routerd) else {
            throw BenchError(description: "no routerd beside router-bench: run `swift build -c release` first")
        }
        let socket = directory + "/r.sock"
        guard let pid = spawn([routerd, "--socket", socket, "--domain", "example.com", "--log-level", "error"]) else {
            throw BenchError(description: "could not start \(routerd)")
        }
        defer {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        var control: LineConnection?
        for _ in 0..<500 where control == nil {
            control = try? LineConnection(path: socket)
            if control == nil { usleep(20_000) }
        }
        guard let control else { throw BenchError(description: "routerd did not answer on \(socket)") }
        print("router-bench watchers: \(rounds) rounds of \(watchers) watchers that never read during \(adds) adds, then a delete of them all; routerd's RSS (release binary, its own process)")
        usleep(300_000)
        let idle = Self.resident(pid)
        var peak = idle
        var after: [Int] = []
        var warm = idle
        for round in 0...rounds {
            var silent: [LineConnection] = []
            for i in 0..<(round == 0 ? 0 : watchers) {
                let watcher = try LineConnection(path: socket)
                try watcher.send(#"{"id":"w\#(i)","op":"watch"}"#)
                silent.append(watcher)
            }
            _ = try control.call(#"{"op":"ping"}"#)
            let writer = try LineConnection(path: socket)
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
                for _ in 0..<chunk { _ = try writer.readLine() }
                sent += chunk
                if sent % 20_000 == 0 { peak = max(peak, Self.resident(pid)) }
            }
            // Every watcher cut and its connection gone: only the control and the writer remain.
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                let stats = try control.call(#"{"op":"stats"}"#)
                peak = max(peak, Self.resident(pid))
                if stats["result"]?["connections"] == .number(2) && stats["result"]?["watchers"] == .number(0) { break }
                usleep(100_000)
            }
            _ = try writer.call(#"{"op":"delete","key":"uuid:bulk"}"#)
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

/// A blocking NDJSON connection for the benchmark's control and load.
final class LineConnection {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0

    init(path: String) throws {
        fd = UnixSocketAddress.connect(path)
        guard fd >= 0 else { throw BenchError(description: "connect \(path): \(String(cString: strerror(errno)))") }
        _ = try readLine() // the greeting
    }

    deinit { Glibc.close(fd) }

    func close() { shutdown(fd, Int32(SHUT_RDWR)) }

    func send(_ line: String) throws { try sendRaw(Array(line.utf8) + [0x0A]) }

    func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw BenchError(description: "send: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    func readLine() throws -> [UInt8] {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                return line
            }
            buffer.removeFirst(start)
            start = 0
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw BenchError(description: "routerd closed the connection") }
            buffer += chunk[..<n]
        }
    }

    /// Sends one request and returns its reply.
    func call(_ line: String) throws -> JSONValue {
        try send(line)
        return try JSONParser.parse(String(decoding: try readLine(), as: UTF8.self))
    }
}
