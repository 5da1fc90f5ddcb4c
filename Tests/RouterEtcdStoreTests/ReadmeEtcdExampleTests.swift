import Foundation
import RouterTestSupport
import Testing

@Suite("README: Several gateways on etcd")
struct ReadmeEtcdExampleTests {
    @Test(.enabled(if: etcdInstalled, "needs etcd (scripts/install-packages.sh test)"))
    func etcdExampleRunsAsWritten() throws {
        let script = try readmeExample(under: "### On etcd")
        #expect(script.contains("--store etcd://"), "the section's first block is the example")
        let dir = makeTemporaryDirectory("readme-etcd-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = productsDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        // Whatever happens, the example's servers go (it stops them itself when it gets to its end).
        let cleanup = "trap 'set +e; kill %1 %2 %3 2>/dev/null; wait' EXIT\n"
        let run = try ChildProcess("/bin/bash", ["-c", "set -e\ncd \(dir)\n" + cleanup + script],
                                   environment: ["PATH": path], directory: dir).wait(timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("foo.localhost") && $0.contains("exact") }, "\(run.stdout)")
        #expect(lines.contains("router/head") && lines.contains { $0.hasPrefix("1 ") }, "\(run.stdout)")
    }
}
