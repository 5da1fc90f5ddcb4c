import Foundation
import RouterEngine
import RouterProtocol
import RouterTestSupport
import Testing

/// The log's growth as an operator's choice: `--log-file` reopened on SIGHUP (logrotate), and
/// `--audit-log none` leaving per-change lines out.
@Suite("routerd's log file and audit lines")
struct LogFileTests {
    func add(_ daemon: RouterdProcess, _ key: String) throws {
        let client = try LineClient(path: daemon.socket)
        defer { client.close() }
        #expect(try client.request(#"{"op":"add","key":"\#(key)","tunnel":"t"}"#)["ok"] == .bool(true))
    }

    func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test func theLogFileIsOpenedAgainOnSIGHUPAsLogrotateExpects() throws {
        let dir = makeTemporaryDirectory("logfile-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = dir + "/routerd.log"
        let daemon = try RouterdProcess(["--log-file", log])
        try add(daemon, "before")
        #expect(eventually { text(log).contains("key=before.localhost") }, "\(text(log))")
        // logrotate: move the file, then SIGHUP.
        try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
        daemon.process.signal(SIGHUP)
        #expect(eventually { text(log).contains("SIGHUP: log file opened again") }, "the new file: \(text(log))")
        try add(daemon, "after")
        #expect(eventually { text(log).contains("key=after.localhost") })
        let stopped = try daemon.stop()
        #expect(!text(log).contains("key=before.localhost") && text(log + ".1").contains("key=before.localhost"))
        #expect(!text(log + ".1").contains("key=after.localhost"), "the old file takes nothing after the reopen")
        #expect(stopped.stderr.isEmpty, "everything went to the file: \(stopped.stderr)")
        let mode = try FileManager.default.attributesOfItem(atPath: log)[.posixPermissions] as? Int
        #expect(mode == 0o640)
    }

    @Test func auditLogNoneLeavesChangeLinesOutAndTheStateFileStillRecordsThem() throws {
        let dir = makeTemporaryDirectory("audit-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try RouterdProcess(["--db", dir + "/state.db", "--audit-log", "none"])
        try add(daemon, "quiet")
        let history = try ChildProcess(productsDirectory + "/routerctl", ["history", "-o", "name"], environment: ["ROUTER_SOCKET": daemon.socket],
                                       directory: dir).wait(timeout: 30)
        #expect(history.stdout == "quiet.localhost\n", "\(history)")
        let log = try daemon.stop().stderr
        #expect(!log.contains("] add") && !log.contains("key=quiet.localhost"), "\(log)")
        #expect(log.contains("listening on"), "the rest of the log is as before")
        // Without the flag, the same add is a line.
        let loud = try RouterdProcess([])
        try add(loud, "loud")
        #expect(try loud.stop().stderr.contains("key=loud.localhost"))
        let bad = try ChildProcess(productsDirectory + "/routerd", ["--audit-log", "some"], directory: dir).wait(timeout: 20)
        #expect(bad.status == 64 && bad.stderr.contains("--audit-log <changes|none>") && bad.stderr.contains("'changes' and 'none'"), "\(bad.stderr)")
    }
}
