import Foundation
import RouterProtocol
import RouterTestSupport
import Testing

/// routerd under systemd's `Type=notify`: a socket of the test's own stands in for the manager
/// and receives what routerd says, in order.
@Suite("routerd and systemd's notify protocol")
struct SystemdNotifyTests {
    @Test func readyOnceTheSocketAnswersReloadingThenReadyAroundSIGHUPAndStoppingFirstAtShutdown() throws {
        let notify = try NotifySocket()
        let daemon = try RouterdProcess(["--domain", "example.com"], environment: ["NOTIFY_SOCKET": notify.path])
        let ready = try #require(notify.nextState())
        #expect(ready.hasPrefix("READY=1\nSTATUS=serving example.com on \(daemon.socket)"), "\(ready)")
        // By READY=1 the socket answered (the launcher's check above connected too, but the
        // order is what matters: READY=1 never comes before the socket is there).
        #expect(RouterdProcessGreets(daemon.socket))
        daemon.process.signal(SIGHUP)
        let reloading = try #require(notify.nextState())
        #expect(reloading.hasPrefix("RELOADING=1\nMONOTONIC_USEC="), "\(reloading)")
        let usec = UInt64(reloading.split(separator: "=").last ?? "") ?? 0
        #expect(usec > 0)
        let again = try #require(notify.nextState())
        #expect(again.hasPrefix("READY=1\nSTATUS=serving; reloaded"), "\(again)")
        daemon.process.signal(SIGTERM)
        #expect(notify.nextState() == "STOPPING=1")
        #expect(try daemon.stop().status == 0)
    }

    @Test func watchdogPingsComeAtHalfTheIntervalWhileItRuns() throws {
        let notify = try NotifySocket()
        let daemon = try RouterdProcess([], environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000"])
        defer { _ = try? daemon.stop() }
        #expect(notify.next()?.hasPrefix("READY=1") == true)
        var pings = 0
        let start = Date()
        while pings < 5, let message = notify.next(timeout: 5) {
            if message == "WATCHDOG=1" { pings += 1 }
        }
        #expect(pings == 5)
        // Five pings at 100 ms take about half a second; far less would mean no pacing.
        #expect(Date().timeIntervalSince(start) > 0.3)
    }

    @Test func aWatchdogForAnotherProcessIsNotAnsweredAndNoSocketMeansSilence() throws {
        let notify = try NotifySocket()
        let daemon = try RouterdProcess([], environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"])
        #expect(notify.next()?.hasPrefix("READY=1") == true)
        #expect(notify.next(timeout: 0.6) == nil, "no WATCHDOG=1: the watchdog is PID 1's")
        daemon.process.signal(SIGTERM)
        #expect(notify.next() == "STOPPING=1")
        _ = try daemon.stop()
    }
}

/// routergw under systemd: READY=1 once it follows routerd and its listeners are open.
@Suite("routergw and systemd's notify protocol")
struct GatewayNotifyTests {
    @Test func readyOnceTheListenersAreOpenAndStoppingFirstAtShutdown() throws {
        let notify = try NotifySocket()
        let routerd = try RouterdProcess(["--domain", "example.com"])
        let gateway = try GatewayProcess(following: routerd.socket, environment: ["NOTIFY_SOCKET": notify.path])
        let ready = try #require(notify.nextState())
        #expect(ready == "READY=1\nSTATUS=routing for \(routerd.socket)", "\(ready)")
        #expect(gateway.process.stderr.contains("listening"), "READY=1 came once the listeners were open")
        gateway.process.signal(SIGTERM)
        #expect(notify.nextState() == "STOPPING=1")
        _ = try gateway.stop()
        _ = try routerd.stop()
    }
}

/// The unit files in systemd/, as systemd itself reads them.
@Suite("The systemd unit files")
struct UnitFileTests {
    static let verify = "/usr/bin/systemd-analyze"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: verify), "systemd-analyze is not installed"),
          arguments: ["routerd", "routergw"])
    func theUnitFilePassesSystemdAnalyzeVerify(_ name: String) throws {
        let folder = makeTemporaryDirectory("units-")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The unit as shipped, with ExecStart pointing at the built binary (verify checks it exists).
        let unit = try String(contentsOfFile: repositoryFile("systemd/\(name).service"), encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/\(name) ", with: productsDirectory + "/\(name) ")
        #expect(unit.contains("Type=notify") && unit.contains("ExecStart=" + productsDirectory))
        try unit.write(toFile: folder + "/\(name).service", atomically: true, encoding: .utf8)
        let verified = try ChildProcess(Self.verify, ["verify", "--man=no", folder + "/\(name).service"], directory: folder).wait(timeout: 60)
        #expect(verified.status == 0 && verified.stderr.isEmpty, "\(verified)")
    }

    @Test func theExampleConfigurationChecksOKAsREADMEShows() throws {
        // README's command, as written, run from the repository.
        let command = try readmeExample(under: "## Running as a service")
        #expect(command == "routerd --check-config systemd/routerd.yaml\n")
        let folder = makeTemporaryDirectory("units-")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = productsDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let checked = try ChildProcess("/bin/sh", ["-c", "cd '\(repositoryFile(""))' && \(command)"], environment: ["PATH": path],
                                       directory: folder).wait(timeout: 30)
        #expect(checked.status == 0 && checked.stdout.hasSuffix(": OK (7 keys)\n"), "\(checked)")
    }
}

/// Whether routerd greets on `path` now.
func RouterdProcessGreets(_ path: String) -> Bool {
    let fd = UnixSocketAddress.connect(path)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&poller, 1, 2000) > 0
}
