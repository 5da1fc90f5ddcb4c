import Foundation
import RouterTestSupport
import Testing

@Suite("README: routing traffic")
struct ReadmeRoutingTests {
    static let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: GatewayStack.curl != nil && python != nil, "needs curl and python3"))
    func theReadmeExampleRunsAsWritten() throws {
        let (gatewayPort, sitePort) = (freeTCPPort(), freeTCPPort())
        let script = try readmeExample(under: "## Routing traffic")
            .replacingOccurrences(of: "8080", with: String(gatewayPort))
            .replacingOccurrences(of: "3000", with: String(sitePort))
        #expect(script.contains("routergw --follow gw.sock --http"), "the section's first block is the example")
        let dir = makeTemporaryDirectory("readme-gw-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = productsDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        // Its own process group: whatever the script started goes with it, even when it hangs.
        let shell = try ChildProcess("/bin/bash", ["-c", "set -e\ncd \(dir)\n" + script],
                                     environment: ["PATH": path, "ROUTER_SOCKET": dir + "/r.sock"], directory: dir,
                                     ownProcessGroup: true)
        let run = shell.wait(timeout: 60)
        shell.signalGroup(SIGKILL)
        let logs = ["gw.log", "routergw.log"].map { (try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8)) ?? "" }
        #expect(run.status == 0, "\(run.stderr) \(logs)")
        #expect(run.stdout == "hello from app\n404 Not Found\n\nNo service is registered under this name.\n404\n", "\(run.stdout)")
    }
}
