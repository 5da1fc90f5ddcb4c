import Foundation
import RouterTestSupport
import Testing

/// README followed as a new user follows it: every runnable example, top to bottom, in one
/// shell — the set-up's main job (its daemon stays up), the tour, the HTTP API, the state file,
/// several gateways, routing traffic — each block working beside what the ones before left
/// running.
@Suite("README: top to bottom in one shell")
struct ReadmeReplayTests {
    static let tools = ["/usr/bin/curl", "/usr/bin/python3", "/usr/bin/openssl", "/usr/bin/redis-cli"]
        .allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: tools && RedisServerProcess.executable != nil, "needs curl, python3, openssl and redis-server"))
    func everyExampleRunsInOrderInOneShell() throws {
        // The main job, less the package install and the build (the tests run on the build).
        let setUp = try readmeBlocks(under: "## Set up")
        let build = #"scripts/install-packages.sh build && swift build -c release --static-swift-stdlib && export PATH="$PWD/.build/release:$PATH" && "#
        try #require(setUp.first?.hasPrefix(build) == true, "the set-up's first block is the main job: \(setUp)")
        let mainJob = String(setUp[0].dropFirst(build.count))
        // The tour's commands, all but those that wait for Ctrl-C (watch, --session, the shell).
        let tour = try readmeBlocks(under: "## A five-minute tour").flatMap { $0.split(separator: "\n") }
            .filter { $0.hasPrefix("$ ") }.map { $0.dropFirst(2) }
            .filter { !$0.contains("watch") && !$0.contains("--session") && $0 != "routerctl" }
        try #require(tour.count >= 10, "\(tour)")
        let sections = ["## The HTTP API", "## Keeping routes across restarts", "## Several gateways", "## Routing traffic"]
        let examples = try sections.map { try readmeExample(under: $0) }

        let (gatewayPort, sitePort) = (freeTCPPort(), freeTCPPort())
        var script = "set -e\n"
        script += "trap 'redis-cli -s \"$PWD/redis.sock\" shutdown nosave >/dev/null 2>&1 || true' EXIT\n"
        script += mainJob + "main=$!\n"
        // The tour shows failures too (a collision, a miss): its lines run for their effect.
        script += "set +e\n" + tour.joined(separator: "\n") + "\nset -e\n"
        script += examples.joined()
        script += "kill $main; wait $main\n"
        script = script.replacingOccurrences(of: "8080", with: String(gatewayPort))
            .replacingOccurrences(of: "3000", with: String(sitePort))

        let dir = makeTemporaryDirectory("readme-all-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = productsDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        // The default socket (root's is /run/routerd/routerd.sock) inside the test's folder.
        let shell = try ChildProcess("/bin/bash", ["-c", "cd \(dir)\n" + script],
                                     environment: ["PATH": path, "ROUTER_SOCKET": dir + "/routerd.sock", "NO_COLOR": "1", "HOME": dir],
                                     directory: dir, ownProcessGroup: true)
        let run = shell.wait(timeout: 120)
        shell.signalGroup(SIGKILL)
        let logs = ["routerd.log", "api.log", "db.log", "a.log", "b.log", "gw.log", "routergw.log"].map {
            "\($0): " + ((try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8)) ?? "none")
        }
        #expect(run.status == 0, "\(run.stderr)\n\(logs.joined(separator: "\n"))")
        let out = run.stdout
        #expect(out.contains("foo.localhost") && out.contains("demo"), "the main job's lookup: \(out)")
        #expect(out.contains(#""match":"exact""#), "the HTTP API's lookup: \(out)")
        #expect(out.contains("shop.localhost  t1"), "the state file kept the route: \(out)")
        #expect(out.contains("hello from app") && out.contains("No service is registered under this name."), "routing: \(out)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/routerd.sock"), "the main job's routerd stopped and removed its socket")
    }
}
