import Foundation
import RouterTestSupport
import Testing

let tmuxPath = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// A terminal for the shell: a detached tmux session on a private tmux server.
final class TmuxTerminal {
    let server = "rctl-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

    init(_ command: String, environment: [String: String]) throws {
        let env = environment.map { "\($0.key)=\(ShellQuote.quote($0.value))" }.joined(separator: " ")
        let line = "env -u NO_COLOR \(env) \(command); echo EXIT=$?; sleep 60"
        try tmux(["new-session", "-d", "-s", "t", "-x", "160", "-y", "50", line])
    }

    @discardableResult
    func tmux(_ arguments: [String]) throws -> String {
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try ChildProcess(tmuxPath!, ["-L", server, "-f", "/dev/null"] + arguments, directory: dir).wait(timeout: 20)
        return result.stdout
    }

    func type(_ text: String) throws { try tmux(["send-keys", "-t", "t", "-l", "--", text]) }
    func press(_ keys: String...) throws { try tmux(["send-keys", "-t", "t"] + keys) }
    func screen() -> String { (try? tmux(["capture-pane", "-p", "-J", "-S", "-200", "-t", "t"])) ?? "" }

    /// Waits until the screen shows `text`.
    func waitFor(_ text: String, timeout: Double = 15) -> Bool {
        eventually(timeout: timeout) { screen().contains(text) }
    }

    /// Waits until the shell is back at an empty prompt.
    func waitForPrompt(timeout: Double = 15) -> Bool {
        eventually(timeout: timeout) { lastLine.hasSuffix(">") }
    }

    /// The last non-empty line on screen (the prompt and what is typed after it).
    var lastLine: String {
        let last = screen().split(separator: "\n").last.map(String.init) ?? ""
        return last.trimmingCharacters(in: .whitespaces)
    }

    func close() { _ = try? tmux(["kill-server"]) }
}

enum ShellQuote {
    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

@Suite("routerctl shell", .serialized)
struct ShellTests {
    func environment(_ d: Daemon) -> [String: String] {
        ["ROUTER_SOCKET": d.socket, "ROUTERCTL_HISTFILE": d.directory + "/history", "HOME": d.directory, "TERM": "xterm"]
    }

    var routerctl: String { productsDirectory + "/routerctl" }

    @Test(.enabled(if: tmuxPath != nil, "needs tmux")) func tabCompletesACommandAndALiveKey() throws {
        try withRouterd { d in
            d.run(["add", "foo", "--tunnel", "t1"])
            let t = try TmuxTerminal(routerctl, environment: environment(d))
            defer { t.close() }
            #expect(t.waitFor("Ctrl-D leaves"))
            try t.type("loo")
            try t.press("Tab")
            #expect(t.waitFor("> lookup "), "\(t.screen())")
            try t.type("fo")
            try t.press("Tab")
            #expect(t.waitFor("> lookup foo.example.com"), "\(t.screen())")
            try t.type("--s")
            try t.press("Tab")
            #expect(t.waitFor("foo.example.com --s"), "\(t.screen())")
            try t.press("C-u")
            try t.type("lookup foo.example.com")
            try t.press("Enter")
            #expect(t.waitFor("exact"), "\(t.screen())")
        }
    }

    @Test(.enabled(if: tmuxPath != nil, "needs tmux")) func globalOptionsWithoutASubcommandOpenTheShell() throws {
        try withRouterd { d in
            var env = environment(d)
            env["ROUTER_SOCKET"] = nil
            let t = try TmuxTerminal(routerctl + " --socket " + ShellQuote.quote(d.socket), environment: env)
            defer { t.close() }
            #expect(t.waitFor("Ctrl-D leaves"), "\(t.screen())")
            #expect(t.screen().contains(d.socket + ">"), "\(t.screen())")
            try t.type("ping")
            try t.press("Enter")
            #expect(t.waitForPrompt())
            try t.press("C-d")
            #expect(t.waitFor("EXIT=0"), "\(t.screen())")
        }
    }

    @Test(.enabled(if: tmuxPath != nil, "needs tmux")) func aCappedCompletionListSaysSoAndHowManyRoutesThereAre() throws {
        try withRouterd { d in
            let lines = (0..<250).map { "add k\($0) --tunnel t1" }.joined(separator: "\n")
            #expect(d.run(["batch"], stdin: lines).status == 0)
            let t = try TmuxTerminal(routerctl, environment: environment(d))
            defer { t.close() }
            #expect(t.waitFor("Ctrl-D leaves"))
            try t.type("lookup k")
            try t.press("Tab")
            try t.press("Tab")
            #expect(t.waitFor("(the first 200 keys starting with 'k'; the table holds 250 routes"), "\(t.screen())")
            #expect(t.lastLine.hasSuffix("> lookup k"), "the prompt and the line come back: \(t.screen())")
        }
    }

    @Test(.enabled(if: tmuxPath != nil, "needs tmux")) func anUnknownCommandGetsAShellWordedError() throws {
        try withRouterd { d in
            let t = try TmuxTerminal(routerctl, environment: environment(d))
            defer { t.close() }
            #expect(t.waitFor("Ctrl-D leaves"))
            try t.type("clear")
            try t.press("Enter")
            #expect(t.waitFor("error: unknown command 'clear'; type help"), "\(t.screen())")
            #expect(!t.screen().contains("USAGE:"), "\(t.screen())")
        }
    }

    @Test(.enabled(if: tmuxPath != nil, "needs tmux")) func historySurvivesIntoASecondSession() throws {
        try withRouterd { d in
            let first = try TmuxTerminal(routerctl + " shell", environment: environment(d))
            #expect(first.waitFor("Ctrl-D leaves"))
            for line in ["stats", "list", "stats"] {
                try first.type(line)
                try first.press("Enter")
            }
            #expect(eventually { first.screen().components(separatedBy: "uptime:").count == 3 }, "\(first.screen())")
            #expect(first.waitForPrompt())
            try first.press("C-d")
            #expect(first.waitFor("EXIT=0"))
            first.close()
            let saved = try String(contentsOfFile: d.directory + "/history", encoding: .utf8)
            #expect(saved == "list\nstats\n", "de-duplicated, latest last: \(saved)")
            let second = try TmuxTerminal(routerctl, environment: environment(d))
            defer { second.close() }
            #expect(second.waitFor("Ctrl-D leaves"))
            try second.press("Up")
            #expect(eventually { second.lastLine.hasSuffix("> stats") }, "\(second.screen())")
            try second.press("Up")
            #expect(eventually { second.lastLine.hasSuffix("> list") }, "\(second.screen())")
        }
    }

    @Test(.enabled(if: tmuxPath != nil, "needs tmux")) func ctrlCStopsWatchAndTheShellGoesOn() throws {
        try withRouterd { d in
            let t = try TmuxTerminal(routerctl, environment: environment(d))
            defer { t.close() }
            #expect(t.waitFor("Ctrl-D leaves"))
            try t.type("watch")
            try t.press("Enter")
            #expect(t.waitFor("caught up"), "\(t.screen())")
            d.run(["add", "live", "--tunnel", "t9"])
            #expect(t.waitFor("live.example.com"), "\(t.screen())")
            try t.press("C-c")
            try t.type("ping")
            try t.press("Enter")
            #expect(t.waitFor("pong from routerd"), "\(t.screen())")
            let stats = d.run(["stats", "-o", "json"]).stdout
            #expect(stats.contains("\"watchers\":0"), "the watch was cancelled: \(stats)")
            #expect(t.waitForPrompt())
            try t.press("C-d")
            #expect(t.waitFor("EXIT=0"))
        }
    }

    @Test(.enabled(if: tmuxPath != nil, "needs tmux")) func ctrlCStopsALongListAndKeepsTheConnectionAndItsSessionRoutes() throws {
        try withRouterd { d in
            // Enough routes that printing them to the terminal takes a while.
            let lines = (0..<200_000).map { "add r\($0) --tunnel t1" }.joined(separator: "\n")
            #expect(d.run(["batch"], stdin: lines, timeout: 120).status == 0)
            let t = try TmuxTerminal(routerctl, environment: environment(d))
            defer { t.close() }
            #expect(t.waitFor("Ctrl-D leaves"))
            try t.type("add mine --tunnel s1 --ttl 1h --session")
            try t.press("Enter")
            #expect(t.waitForPrompt(), "\(t.screen())")
            #expect(d.run(["lookup", "mine"]).status == 0, "the shell's session route is there")
            try t.type("list")
            try t.press("Enter")
            #expect(t.waitFor("r1"), "\(t.screen())")
            try t.press("C-c")
            #expect(t.waitFor("interrupted: ", timeout: 60), "\(t.screen())")
            #expect(t.waitForPrompt(timeout: 60))
            #expect(!t.lastLine.contains("not connected"), "the prompt tells the truth: \(t.lastLine)")
            try t.type("ping")
            try t.press("Enter")
            #expect(t.waitFor("pong from routerd"), "\(t.screen())")
            // The connection was kept, and with it the session's route.
            #expect(d.run(["lookup", "mine"]).status == 0, "the session route outlived the Ctrl-C")
        }
    }

    @Test(.enabled(if: tmuxPath != nil, "needs tmux")) func ctrlCAbandonsATypedLineAndCtrlDExitsZero() throws {
        try withRouterd { d in
            let t = try TmuxTerminal(routerctl, environment: environment(d))
            defer { t.close() }
            #expect(t.waitFor("Ctrl-D leaves"))
            try t.type("add never")
            try t.press("C-c")
            try t.press("C-d")
            #expect(t.waitFor("EXIT=0"), "\(t.screen())")
            #expect(d.run(["lookup", "never.example.com", "-q"]).status == 1)
        }
    }

    @Test(.enabled(if: tmuxPath != nil, "needs tmux")) func reconnectsAfterARestartAndSaysTheInstanceChanged() throws {
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/r.sock"
        var daemon = try ChildProcess(productsDirectory + "/routerd", ["--socket", socket, "--log-level", "error"], directory: dir)
        defer { daemon.signal(SIGTERM); daemon.wait() }
        #expect(try ChildProcess(routerctl, ["ping", "--wait", "10s", "--socket", socket], directory: dir).wait().status == 0)
        let t = try TmuxTerminal(routerctl, environment: ["ROUTER_SOCKET": socket, "ROUTERCTL_HISTFILE": dir + "/h", "TERM": "xterm"])
        defer { t.close() }
        #expect(t.waitFor("Ctrl-D leaves"))
        daemon.signal(SIGTERM)
        daemon.wait()
        daemon = try ChildProcess(productsDirectory + "/routerd", ["--socket", socket, "--log-level", "error"], directory: dir)
        #expect(try ChildProcess(routerctl, ["ping", "--wait", "10s", "--socket", socket], directory: dir).wait().status == 0)
        try t.type("stats")
        try t.press("Enter")
        #expect(t.waitFor("routerd restarted"), "\(t.screen())")
        #expect(t.waitFor("uptime:"))
    }

    @Test func scriptedShellRunsEachLineAndExitsWithTheHighestStatus() throws {
        try withRouterd { d in
            let script = """
                add foo --tunnel t1
                # a comment
                lookup nope.example.com
                add foo --tunnel t2
                list -o name
                """
            let r = d.run(["shell"], stdin: script)
            #expect(r.status == 3)
            #expect(!r.stdout.contains("routerctl>") && !r.stdout.contains("> "), "no prompts: \(r.stdout)")
            #expect(r.stdout.hasSuffix("foo.example.com\n"))
            #expect(r.stderr.contains("no route for nope.example.com"))
            #expect(!FileManager.default.fileExists(atPath: d.directory + "/history"), "no history without a terminal")
            let clean = d.run(["shell"], stdin: "ping -q\nstats -q\n", environment: ["ROUTERCTL_HISTFILE": d.directory + "/history"])
            #expect(clean.status == 0)
            #expect(!FileManager.default.fileExists(atPath: d.directory + "/history"))
        }
    }

    @Test func shellSessionRoutesLiveAsLongAsTheShell() throws {
        try withRouterd { d in
            let shell = try d.start(["shell"], stdin: "add held --tunnel t1 --session\nping\n")
            #expect(shell.wait().status == 0)
            #expect(eventually { d.run(["lookup", "held.example.com", "-q"]).status == 1 }, "gone after the shell's grace")
        }
    }
}
