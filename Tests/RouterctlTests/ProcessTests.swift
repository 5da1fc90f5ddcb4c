import Foundation
import RouterProtocol
import RouterTestSupport
import Testing
@testable import routerctl

@Suite("routerd and routerctl as processes: start, stop, version, usage", .serialized)
struct ProcessTests {
    @Test func routerdLogsItsStartAndStopToStderrLikeEveryOtherLine() throws {
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/r.sock"
        let daemon = try ChildProcess(productsDirectory + "/routerd", ["--socket", socket], directory: dir)
        let up = try ChildProcess(productsDirectory + "/routerctl", ["ping", "--wait", "10s", "--socket", socket], directory: dir).wait()
        #expect(up.status == 0, "\(daemon.stderr)")
        daemon.signal(SIGTERM)
        let r = daemon.wait(timeout: 10)
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty, "\(r.stdout)")
        #expect(r.stderr.contains("listening on \(socket)"), "\(r.stderr)")
        #expect(r.stderr.contains("shutting down"), "\(r.stderr)")
    }

    @Test func aSIGTERMSentAsSoonAsTheSocketExistsStopsRouterd() throws {
        // The signal handlers are in place before the socket is bound, so no SIGTERM sent once
        // it exists can fall between ignoring the signal and watching it.
        for round in 0..<10 {
            let dir = makeTemporaryDirectory("rctl-")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let socket = dir + "/r.sock"
            let daemon = try ChildProcess(productsDirectory + "/routerd", ["--socket", socket, "--log-level", "error"], directory: dir)
            #expect(eventually { FileManager.default.fileExists(atPath: socket) }, "\(daemon.stderr)")
            daemon.signal(SIGTERM)
            let r = daemon.wait(timeout: 10)
            #expect(r.status == 0, "round \(round): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: socket), "round \(round): the socket is removed")
        }
    }

    @Test func aSIGHUPSentAsSoonAsTheSocketExistsDoesNotStopRouterd() throws {
        // SIGHUP is trapped before any service starts: one sent as soon as the socket exists
        // reloads (the log file here) and the daemon serves on.
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/r.sock"
        let daemon = try ChildProcess(productsDirectory + "/routerd", ["--socket", socket, "--log-file", dir + "/log"], directory: dir)
        #expect(eventually { FileManager.default.fileExists(atPath: socket) }, "\(daemon.stderr)")
        daemon.signal(SIGHUP)
        #expect(eventually { ((try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? "").contains("SIGHUP: log file opened again") })
        let ping = try ChildProcess(productsDirectory + "/routerctl", ["ping", "--socket", socket], directory: dir).wait()
        #expect(ping.status == 0, "\(ping.stderr)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(timeout: 10).status == 0)
    }

    @Test(arguments: [
        ("--grace", "5x", "--grace <duration>"), ("--tcp-ports", "9-1", "--tcp-ports <low-high>"),
        ("--watcher-buffer-bytes", "lots", "--watcher-buffer-bytes <bytes>"), ("--socket-mode", "0999", "--socket-mode <mode>"),
        ("--http", "host:port", "--http <[host:]port>"), ("--log-level", "loud", "--log-level <level>"),
        ("--audit-log", "some", "--audit-log <changes|none>"), ("--sync", "always", "--sync <level>"),
        ("--hold-released", "soon", "--hold-released <duration>"),
    ])
    func aFlagValueThatDoesNotParseIsRefusedNamingTheFlag(flag: String, value: String, named: String) throws {
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try ChildProcess(productsDirectory + "/routerd", ["--socket", dir + "/r.sock", flag, value], directory: dir).wait()
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains("The value '\(value)' is invalid for '\(named)'"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/r.sock"), "nothing started")
    }

    @Test func bothExecutablesPrintTheOneProductVersion() throws {
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ctl = try ChildProcess(productsDirectory + "/routerctl", ["--version"], directory: dir).wait()
        let daemon = try ChildProcess(productsDirectory + "/routerd", ["--version"], directory: dir).wait()
        #expect(ctl.status == 0 && daemon.status == 0)
        #expect(ctl.stdout == ProductVersion.current + "\n")
        #expect(daemon.stdout == ctl.stdout)
    }

    @Test func noArgumentsAndNoTerminalPrintsUsageAndExits64() throws {
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try ChildProcess(productsDirectory + "/routerctl", [], directory: dir).wait()
        #expect(r.status == 64)
        #expect(r.stderr.contains("USAGE: routerctl <subcommand>"))
        #expect(r.stdout.isEmpty)
    }

    @Test func onlyGlobalOptionsAndNoTerminalPrintUsageAndExit64() throws {
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try ChildProcess(productsDirectory + "/routerctl", ["--socket", dir + "/r.sock", "-q"], directory: dir).wait()
        #expect(r.status == 64)
        #expect(r.stderr.contains("USAGE: routerctl <subcommand>"), "\(r.stderr)")
        #expect(!r.stderr.contains("Unknown option"), "\(r.stderr)")
    }

    @Test func pingWaitRetriesUntilTheDaemonAnswers() throws {
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/late.sock"
        let ping = try ChildProcess(productsDirectory + "/routerctl", ["ping", "--wait", "20s", "--socket", socket], directory: dir)
        usleep(500_000)
        let daemon = try ChildProcess(productsDirectory + "/routerd", ["--socket", socket, "--log-level", "error"], directory: dir)
        defer { daemon.signal(SIGTERM); daemon.wait() }
        let r = ping.wait(timeout: 30)
        #expect(r.status == 0, "\(r.stderr)")
        let quick = try ChildProcess(productsDirectory + "/routerctl", ["ping", "--wait", "300ms", "--socket", dir + "/never.sock"], directory: dir).wait()
        #expect(quick.status == 69)
    }

    @Test func routerBenchsLoadGeneratorSendsEveryConnectionItsOwnNumberedKeys() throws {
        // The pipelined adds' requests are filled in from a template per connection and
        // request number: 50 connections, 16 requests each at a time, every reply counted.
        let daemon = try RouterdProcess(["--domain", "example.com", "--log-level", "error"])
        defer { _ = try? daemon.stop() }
        let run = try ChildProcess(productsDirectory + "/router-bench", ["plain-adds", daemon.socket, "0.2", "lg"],
                                   directory: daemon.directory).wait(timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        #expect((Double(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0, "\(run.stdout)")
        for key in ["lg-0-0", "lg-7-3", "lg-49-15"] {
            let lookup = try ChildProcess(productsDirectory + "/routerctl", ["lookup", key + ".example.com", "--socket", daemon.socket],
                                          directory: daemon.directory).wait()
            #expect(lookup.status == 0, "\(key): \(lookup.stdout) \(lookup.stderr)")
        }
    }

    @Test func routerBenchRefusesAnOptionItDoesNotTakeBeforeStartingAnything() throws {
        // A benchmark run on its defaults by mistake takes minutes; a typo must not start one.
        let typo = try ChildProcess(productsDirectory + "/router-bench", ["store", "--round", "3"], directory: NSTemporaryDirectory()).wait()
        #expect(typo.status == 64)
        #expect(typo.stderr.contains("store takes no option '--round'"), "\(typo.stderr)")
        let word = try ChildProcess(productsDirectory + "/router-bench", ["table", "--routes", "many"], directory: NSTemporaryDirectory()).wait()
        #expect(word.status == 64)
        #expect(word.stderr.contains("--routes takes a whole number, not 'many'"), "\(word.stderr)")
        let help = try ChildProcess(productsDirectory + "/router-bench", ["store", "--help"], directory: NSTemporaryDirectory()).wait()
        #expect(help.status == 0)
        #expect(help.stdout.contains("router-bench store [--seconds N] [--rounds N]"), "\(help.stdout)")
    }
}
