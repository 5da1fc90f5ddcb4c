import Foundation
import RouterTestSupport
import Testing

@Suite("README: Several gateways")
struct ReadmeExampleTests {
    @Test(.enabled(if: RedisServerProcess.executable != nil, "needs redis-server"))
    func severalGatewaysExampleRunsAsWritten() throws {
        let script = try readmeExample(under: "## Several gateways")
        #expect(script.contains("--store"), "the section's first block is the example")
        let dir = makeTemporaryDirectory("readme-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = productsDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        // Whatever happens, the example's servers go: the daemons and Redis (the example stops them
        // itself when it gets to its end).
        let cleanup = "trap 'set +e; kill %1 %2 2>/dev/null; redis-cli -s \"$PWD/redis.sock\" shutdown nosave >/dev/null 2>&1; wait' EXIT\n"
        let run = try ChildProcess("/bin/bash", ["-c", "set -e\ncd \(dir)\n" + cleanup + script],
                                   environment: ["PATH": path], directory: dir).wait(timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        // The watch on b printed the add made on a; the lookup on b found it.
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("add") && $0.contains("foo.localhost") && $0.contains("t1") }, "\(run.stdout)")
        #expect(lines.contains { $0.hasPrefix("foo.localhost") && $0.contains("exact") }, "\(run.stdout)")
    }
}
