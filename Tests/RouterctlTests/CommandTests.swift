import Foundation
import RouterProtocol
import RouterTestSupport
import Testing
@testable import routerctl

@Suite("routerctl subcommands against a real routerd", .serialized)
struct CommandTests {
    @Test func addPrintsTheRouteAsAnAlignedTable() throws {
        try withRouterd { d in
            let r = d.run(["add", "foo", "--tunnel", "t1", "--target", "127.0.0.1:8080", "--ttl", "5m"])
            #expect(r.status == 0, "\(r.stderr)")
            let lines = r.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 2)
            #expect(lines[0].hasPrefix("KEY"))
            #expect(lines[1].hasPrefix("foo.example.com  t1"))
            #expect(lines[1].contains("127.0.0.1:8080") && lines[1].contains("in 5m"))
            // Columns line up: TUNNEL starts where t1 does.
            #expect(lines[0].range(of: "TUNNEL")?.lowerBound.utf16Offset(in: lines[0]) == lines[1].range(of: "t1")?.lowerBound.utf16Offset(in: lines[1]))
        }
    }

    @Test func addAsJSONPrintsTheProtocolResult() throws {
        try withRouterd { d in
            let r = d.run(["add", "--random", "-o", "json", "--label", "env=prod"])
            #expect(r.status == 0, "\(r.stderr)")
            let value = try JSONParser.parse(r.stdout.trimmingCharacters(in: .newlines))
            #expect(value["route"]?["key"]?.stringValue?.hasSuffix(".example.com") == true)
            #expect(value["route"]?["labels"]?["env"] == .string("prod"))
            #expect(value["route"]?["tunnel"]?.stringValue?.count == 36, "the daemon assigns a UUID")
        }
    }

    @Test func addTCPAutoWithNameOutputPrintsOnlyTheKey() throws {
        try withRouterd { d in
            let r = d.run(["add", "tcp:auto", "--tunnel", "t1", "-o", "name"])
            #expect(r.status == 0)
            #expect(r.stdout.hasPrefix("tcp:49") && r.stdout.split(separator: "\n").count == 1)
        }
    }

    @Test func globalOptionsMayComeBeforeTheSubcommand() throws {
        try withRouterd { d in
            let r = d.run(["--socket", d.socket, "-o", "name", "add", "foo"], environment: ["ROUTER_SOCKET": "/nonexistent.sock"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout == "foo.example.com\n")
        }
    }

    @Test func daemonOnOneEventLoopThreadServesPipelinedClients() throws {
        try withRouterd(["--threads", "1"]) { d in
            let lines = (0..<500).map { "add t\($0)" }.joined(separator: "\n")
            let r = d.run(["batch"], stdin: lines)
            #expect(r.status == 0 && r.stderr.contains("500 ok"))
        }
    }

    @Test func quietPrintsNothingOnSuccess() throws {
        try withRouterd { d in
            let r = d.run(["add", "foo", "-q"])
            #expect(r.status == 0 && r.stdout.isEmpty && r.stderr.isEmpty)
        }
    }

    @Test func collisionExits3WithTheDaemonsMessageOnStderr() throws {
        try withRouterd { d in
            d.run(["add", "foo", "--tunnel", "t1"])
            let r = d.run(["add", "foo", "--tunnel", "t2"])
            #expect(r.status == 3)
            #expect(r.stdout.isEmpty)
            #expect(r.stderr.contains("foo.example.com") && r.stderr.contains("--replace"), "\(r.stderr)")
        }
    }

    @Test func errorsAsJSONOnStderrWithOutputJSON() throws {
        try withRouterd { d in
            let r = d.run(["lookup", "nope.example.com", "-o", "json"])
            #expect(r.status == 1)
            let error = try JSONParser.parse(r.stderr.trimmingCharacters(in: .newlines))
            #expect(error["code"] == .string("not_found"))
        }
    }

    @Test func clientFailuresAreJSONErrorObjectsTooWithOutputJSON() throws {
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try ChildProcess(productsDirectory + "/routerctl", ["ping", "--socket", dir + "/none.sock", "-o", "json"], directory: dir).wait()
        #expect(r.status == 69)
        let error = try JSONParser.parse(r.stderr.trimmingCharacters(in: .newlines))
        #expect(error["code"] == .string("unreachable"), "\(r.stderr)")
        #expect(error["message"]?.stringValue?.contains("cannot reach routerd") == true)
        #expect(error["details"]?["path"] == .string(dir + "/none.sock"))
    }

    @Test func aSocketPathThatIsADirectoryOrAFileSaysSo() throws {
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let asDirectory = try ChildProcess(productsDirectory + "/routerctl", ["ping", "--socket", dir], directory: dir).wait()
        #expect(asDirectory.status == 69)
        #expect(asDirectory.stderr.contains("is a directory, not a socket"), "\(asDirectory.stderr)")
        let file = dir + "/plain"
        try "x".write(toFile: file, atomically: false, encoding: .utf8)
        let asFile = try ChildProcess(productsDirectory + "/routerctl", ["ping", "--socket", file], directory: dir).wait()
        #expect(asFile.status == 69)
        #expect(asFile.stderr.contains("is a regular file, not a socket"), "\(asFile.stderr)")
    }

    @Test func theShellSaysAConnectionFlagOnALineIsIgnoredAndItsHelpFitsIn80Columns() throws {
        try withRouterd { d in
            let r = d.run(["shell"], stdin: "help\n--socket /nowhere.sock ping\nping --timeout 2s\n")
            #expect(r.status == 0, "the line's --socket is not used: \(r.stderr)")
            #expect(r.stderr.contains("note: --socket is ignored inside the shell") && r.stderr.contains("note: --timeout is ignored"), "\(r.stderr)")
            #expect(r.stdout.components(separatedBy: "pong from routerd").count == 3, "\(r.stdout)")
            for line in r.stdout.split(separator: "\n") where !line.hasPrefix("pong") { #expect(line.count <= 80, "'\(line)' is \(line.count) columns") }
        }
    }

    @Test func everyExitCodeClass() throws {
        try withRouterd { d in
            #expect(d.run(["lookup", "nope.example.com"]).status == 1)
            #expect(d.run(["add", "bad_name!"]).status == 2)
            #expect(d.run(["add", "foo", "--tunnel", "t1"]).status == 0)
            #expect(d.run(["add", "foo", "--tunnel", "t2"]).status == 3)
            #expect(d.run(["add"]).status == 64)
            #expect(d.run(["add", "foo", "--ttl", "soon"]).status == 64)
            #expect(d.run(["frobnicate"]).status == 64)
            let long = d.run(["add", String(repeating: "a", count: 50) + "." + String(repeating: "b", count: 300)])
            #expect(long.status == 2 && long.stderr.contains("bbb…': the name is 351 octets long"), "a quoted name that is cut says so: \(long.stderr)")
            let twice = d.run(["add", "bar", "--label", "a=1", "--label", "a=2"])
            #expect(twice.status == 64 && twice.stderr.contains("--label a is given twice"), "\(twice.stderr)")
            #expect(d.run(["watch", "--from-revision", "99"]).status == 2, "out_of_range")
        }
        let nowhere = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: nowhere) }
        let child = try ChildProcess(productsDirectory + "/routerctl", ["ping", "--socket", nowhere + "/none.sock"], directory: nowhere)
        let r = child.wait()
        #expect(r.status == 69)
        #expect(r.stderr.contains("cannot reach routerd"))
    }

    @Test func theExpiresColumnSaysSessionForASessionBoundRoute() throws {
        let now: Int64 = 1_700_000_000_000
        let bound = try JSONParser.parse(#"{"key":"a.example.com","session":"s1","expires_at":null}"#)
        #expect(RouteText.cells(bound, wide: false, now: now)[4] == "session")
        let plain = try JSONParser.parse(#"{"key":"a.example.com","session":null,"expires_at":null}"#)
        #expect(RouteText.cells(plain, wide: false, now: now)[4] == "never")
        let both = try JSONParser.parse(#"{"key":"a.example.com","session":"s1","expires_at":"2023-11-14T22:14:20Z"}"#)
        #expect(RouteText.cells(both, wide: false, now: now)[4] == "in 1m, session")
    }

    @Test func daemonErrorCodesMapToTheDocumentedStatuses() {
        #expect(ExitStatus.of("not_found") == 1)
        for code in ["invalid_name", "out_of_range", "bad_request", "unknown_op", "too_large"] {
            #expect(ExitStatus.of(code) == 2, "\(code)")
        }
        for code in ["forbidden", "reserved", "unauthorized"] { #expect(ExitStatus.of(code) == 77, "\(code)") }
        #expect(ExitStatus.of("conflict") == 3)
        #expect(ExitStatus.of("unavailable") == 69)
        for code in ["internal", "compacted", "slow_consumer", "something_new"] { #expect(ExitStatus.of(code) == 70) }
        #expect(ErrorCode.allCases.allSatisfy { ExitStatus.of($0.rawValue) != 0 })
    }

    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
                   "needs root to run the client as nobody"))
    func permissionDeniedOnTheSocketExits77() throws {
        try withRouterd(["--socket-mode", "0600"]) { d in
            chmod(d.directory, 0o755)
            let child = try ChildProcess("/usr/bin/setpriv", ["--reuid", "nobody", "--regid", "nogroup", "--clear-groups",
                                                       productsDirectory + "/routerctl", "ping", "--socket", d.socket],
                                  directory: d.directory)
            let r = child.wait()
            #expect(r.status == 77, "\(r.stderr)")
            #expect(r.stderr.contains("permission denied"))
            let json = try ChildProcess("/usr/bin/setpriv", ["--reuid", "nobody", "--regid", "nogroup", "--clear-groups",
                                                      productsDirectory + "/routerctl", "ping", "--socket", d.socket, "-o", "json"],
                                 directory: d.directory).wait()
            #expect(json.status == 77)
            #expect(json.stderr.contains("\"code\":\"permission_denied\""), "\(json.stderr)")
        }
    }

    @Test func lookupTakesARawHostHeaderAndExplainsTheMatch() throws {
        try withRouterd { d in
            d.run(["add", "foo", "--tunnel", "t1"])
            d.run(["add", "*.apps.example.com", "--tunnel", "t1"])
            let exact = d.run(["lookup", "FOO.Example.COM:8443"])
            #expect(exact.status == 0)
            #expect(exact.stdout.contains("MATCH") && exact.stdout.contains("exact"))
            let wild = d.run(["lookup", "--sni", "web.apps.example.com"])
            #expect(wild.stdout.contains("wildcard *.apps.example.com"), "\(wild.stdout)")
            let miss = d.run(["lookup", "other.example.com"])
            #expect(miss.status == 1 && miss.stderr.contains("no route"))
            let tunnel = d.run(["lookup", "uuid:t1", "-o", "name"])
            #expect(tunnel.stdout == "*.apps.example.com\nfoo.example.com\n")
        }
    }

    @Test func lookupReadsABareLabelUnderTheOnlyBaseDomain() throws {
        try withRouterd { d in
            d.run(["add", "foo", "--tunnel", "t1"])
            let hit = d.run(["lookup", "foo", "-o", "name"])
            #expect(hit.status == 0, "\(hit.stderr)")
            #expect(hit.stdout == "foo.example.com\n")
            d.run(["add", "bücher", "--tunnel", "t1"])
            let unicode = d.run(["lookup", "BÜCHER.example.com", "-o", "name"])
            #expect(unicode.status == 0 && unicode.stdout == "xn--bcher-kva.example.com\n", "a typed Unicode name is a key: \(unicode.stderr)")
            let miss = d.run(["lookup", "bar"])
            #expect(miss.status == 1)
            #expect(miss.stderr.contains("bar.example.com"), "\(miss.stderr)")
        }
    }

    @Test func deleteIgnoreMissingExitsZero() throws {
        try withRouterd { d in
            d.run(["add", "foo"])
            let r = d.run(["delete", "foo", "bar"])
            #expect(r.status == 1)
            #expect(r.stdout.contains("deleted foo"))
            #expect(d.run(["delete", "bar", "--ignore-missing"]).status == 0)
        }
    }

    @Test func ctrlCEndsListWith130WhileItsOutputPipeIsFull() throws {
        try withRouterd { d in
            let lines = (0..<20_000).map { "add n\($0) --tunnel t1" }.joined(separator: "\n")
            #expect(d.run(["batch"], stdin: lines).status == 0)
            // A pipe nobody reads: routerctl fills it and blocks in write.
            let fifo = d.directory + "/out.fifo"
            #expect(mkfifo(fifo, 0o600) == 0)
            let reader = open(fifo, O_RDONLY | O_NONBLOCK)
            #expect(reader >= 0)
            defer { close(reader) }
            let list = try ChildProcess("/bin/sh", ["-c", "exec \"$0\" list --socket \"$1\" > \"$2\"",
                                             productsDirectory + "/routerctl", d.socket, fifo], directory: d.directory)
            // Until the pipe holds its 64 KiB, routerctl is still writing.
            #expect(eventually {
                var size: Int32 = 0
                return ioctl(reader, UInt(FIONREAD), &size) == 0 && size >= 65_536
            })
            list.signal(SIGINT)
            let r = list.wait(timeout: 5)
            #expect(r.status == 130, "\(r.stderr)")
        }
    }

    @Test func listStreamsPagesInKeyOrderWithFilters() throws {
        try withRouterd { d in
            let lines = (0..<25).map { "add n\(String(format: "%02d", $0)) --tunnel \($0 % 2 == 0 ? "even" : "odd")" }.joined(separator: "\n")
            #expect(d.run(["batch"], stdin: lines).status == 0)
            let all = d.run(["list", "-o", "name", "--page-size", "4"])
            #expect(all.stdout.split(separator: "\n").map(String.init) == (0..<25).map { "n\(String(format: "%02d", $0)).example.com" })
            let even = d.run(["list", "--tunnel", "even", "-o", "name"])
            #expect(even.stdout.split(separator: "\n").count == 13)
            let limited = d.run(["list", "--prefix", "n1", "--limit", "3", "-o", "name", "--page-size", "2"])
            #expect(limited.stdout == "n10.example.com\nn11.example.com\nn12.example.com\n")
            let table = d.run(["list", "--prefix", "n0"])
            #expect(table.stdout.split(separator: "\n").first?.hasPrefix("KEY") == true)
            #expect(table.stdout.split(separator: "\n").count == 11)
        }
    }

    @Test func listJSONFedToBatchReRegistersTheRoutes() throws {
        try withRouterd { source in
            source.run(["add", "foo", "--tunnel", "t1", "--target", "10.0.0.5:80", "--label", "env=prod"])
            source.run(["add", "*.apps.example.com", "--tunnel", "t1", "--ttl", "1h"])
            source.run(["add", "tcp:49001", "--tunnel", "t2"])
            let exported = source.run(["list", "-o", "json"])
            #expect(exported.stdout.split(separator: "\n").count == 3)
            try withRouterd { target in
                let r = target.run(["batch"], stdin: exported.stdout)
                #expect(r.status == 0, "\(r.stderr)")
                #expect(r.stderr.contains("3 ok, 0 failed"))
                let again = target.run(["list", "-o", "json"]).stdout.split(separator: "\n").map { try! JSONParser.parse(String($0)) }
                #expect(again.map { $0["key"] } == [.string("*.apps.example.com"), .string("foo.example.com"), .string("tcp:49001")])
                #expect(again[1]["target"] == .string("10.0.0.5:80") && again[1]["labels"]?["env"] == .string("prod"))
                #expect(again[0]["ttl"] == .number("3600"))
            }
        }
    }

    @Test func touchRenewsAndStatsAndPingAnswer() throws {
        try withRouterd { d in
            d.run(["add", "foo", "--ttl", "30s"])
            let touched = d.run(["touch", "foo", "--ttl", "2h", "-o", "json"])
            #expect(touched.status == 0)
            let route = try JSONParser.parse(touched.stdout.trimmingCharacters(in: .newlines))["route"]
            #expect(route?["ttl"] == .number("7200"))
            let stats = d.run(["stats"])
            #expect(stats.stdout.contains("routes:") && stats.stdout.contains("1 (host 1"))
            let json = d.run(["stats", "-o", "json"])
            let counts = try JSONParser.parse(json.stdout.trimmingCharacters(in: .newlines))["routes"]
            #expect(counts?["total"] == .number("1"))
            let ping = d.run(["ping"])
            #expect(ping.status == 0 && ping.stdout.hasPrefix("pong from routerd"))
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/socat"), "needs socat"))
    func silentDaemonTimesOutWith69() throws {
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/silent.sock"
        // Accepts connections and never says a word.
        let silent = try ChildProcess("/usr/bin/socat", ["UNIX-LISTEN:\(socket),fork", "SYSTEM:sleep 30"], directory: dir,
                               ownProcessGroup: true)
        defer { silent.signalGroup(SIGKILL); silent.wait() }
        #expect(eventually { FileManager.default.fileExists(atPath: socket) })
        let started = Date()
        let r = try ChildProcess(productsDirectory + "/routerctl", ["ping", "--socket", socket, "--timeout", "300ms"], directory: dir).wait()
        #expect(r.status == 69)
        #expect(r.stderr.contains("no answer from routerd within 300ms"), "\(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 10)
        let json = try ChildProcess(productsDirectory + "/routerctl", ["ping", "--socket", socket, "--timeout", "200ms", "-o", "json"],
                             directory: dir).wait()
        #expect(json.status == 69)
        let error = try JSONParser.parse(json.stderr.trimmingCharacters(in: .newlines))
        #expect(error["code"] == .string("timed_out"), "\(json.stderr)")
        #expect(error["details"]?["timeout"] == .string("200ms"))
    }

    @Test func watchPrintsEachEventAndExitsZeroOnCtrlC() throws {
        try withRouterd { d in
            let watch = try d.start(["watch", "-o", "json"])
            #expect(eventually { watch.stdout.contains("\"sync\"") })
            d.run(["add", "foo", "--tunnel", "t1"])
            d.run(["delete", "foo"])
            #expect(eventually { watch.stdout.contains("\"delete\"") })
            watch.signal(SIGINT)
            let r = watch.wait()
            #expect(r.status == 0)
            let types = r.stdout.split(separator: "\n").compactMap { try? JSONParser.parse(String($0))["type"]?.stringValue }
            #expect(types == ["sync", "add", "delete"])
        }
    }

    @Test func watchFromAnotherInstancesRevisionIsCompactedWith70() throws {
        try withRouterd { d in
            d.run(["add", "foo"])
            let r = d.run(["watch", "--from-revision", "1", "--instance", "0000000000000000"], timeout: 20)
            #expect(r.status == 70, "\(r.stderr)")
            #expect(r.stderr.contains("another daemon instance"))
            let ping = try JSONParser.parse(d.run(["ping", "-o", "json"]).stdout.trimmingCharacters(in: .newlines))
            let instance = try #require(ping["instance"]?.stringValue)
            let replay = try d.start(["watch", "--from-revision", "1", "--instance", instance, "-o", "json"])
            #expect(eventually { replay.stdout.contains("\"sync\"") })
            replay.signal(SIGINT)
            let done = replay.wait()
            #expect(done.status == 0)
            #expect(done.stdout.split(separator: "\n").first?.contains("\"add\"") == true)
        }
    }

    @Test func watchAndTouchPrintTablesForPeople() throws {
        try withRouterd { d in
            let watch = try d.start(["watch"])
            #expect(eventually { d.run(["stats", "-o", "json"]).stdout.contains("\"watchers\":1") }, "the watch is subscribed")
            d.run(["add", "foo", "--tunnel", "t1", "--ttl", "1m"])
            let touched = d.run(["touch", "foo", "--ttl", "2m"])
            #expect(touched.stdout.split(separator: "\n").first?.hasPrefix("KEY") == true)
            #expect(touched.stdout.contains("foo.example.com") && touched.stdout.contains("in 2m"))
            #expect(eventually { watch.stdout.contains("update") })
            watch.signal(SIGINT)
            let r = watch.wait()
            #expect(r.status == 0)
            let lines = r.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 2, "one line per event, no sync line off a terminal: \(r.stdout)")
            #expect(lines.first?.hasPrefix("1") == true && lines.first?.contains("add") == true && lines.first?.contains("foo.example.com") == true)
            #expect(lines.last?.contains("update") == true)
        }
    }

    @Test func addSessionHoldsTheRouteUntilInterrupted() throws {
        try withRouterd { d in
            let holder = try d.start(["add", "held", "--tunnel", "t1", "--session"])
            #expect(eventually { d.run(["lookup", "held.example.com", "-q"]).status == 0 })
            usleep(500_000)
            #expect(d.run(["lookup", "held.example.com", "-q"]).status == 0, "still held while the command runs")
            holder.signal(SIGINT)
            #expect(holder.wait().status == 0)
            #expect(eventually { d.run(["lookup", "held.example.com", "-q"]).status == 1 }, "gone after the grace")
        }
    }
}
