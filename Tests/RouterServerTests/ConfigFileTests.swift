import Foundation
import RouterProtocol
import RouterTestSupport
import Testing

/// routerd's configuration file (`--config`, `--check-config`) and its reload on SIGHUP, with
/// the built routerd as operators run it.
@Suite("routerd's configuration file")
struct ConfigFileTests {
    /// A folder holding configuration files, removed at the end.
    final class Folder {
        let path = makeTemporaryDirectory("config-")
        deinit { try? FileManager.default.removeItem(atPath: path) }

        /// Writes `text` to `name` in the folder and returns its path.
        @discardableResult
        func write(_ name: String, _ text: String) throws -> String {
            let file = path + "/" + name
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            return file
        }

        func routerd(_ arguments: [String]) throws -> Finished {
            try ChildProcess(productsDirectory + "/routerd", arguments, directory: path).wait(timeout: 30)
        }
    }

    @Test func checkConfigAcceptsAGoodFile() throws {
        let folder = Folder()
        let good = try folder.write("good.yaml", """
            # The socket and its users
            domain: [example.com, example.net]
            grace: 30s
            socket-mode: 0660
            tcp-ports: 40000-40999
            log-level: notice
            reserved: ""
            """)
        let checked = try folder.routerd(["--check-config", good])
        #expect(checked.status == 0 && checked.stdout == "\(good): OK (6 keys)\n" && checked.stderr.isEmpty, "\(checked)")
        // An empty file is a good one: every flag at its default.
        let empty = try folder.write("empty.yaml", "# nothing yet\n")
        #expect(try folder.routerd(["--check-config", empty]).status == 0)
    }

    @Test func checkConfigNamesEveryProblemWithItsLineAndExits65() throws {
        let folder = Folder()
        let bad = try folder.write("bad.yaml", """
            domian: example.com
            grace: 30 s
            socket-mode: 999
            log-level:
            tcp-ports: [1-2, 3-4]
            store-prefix: {a: 1}
            """)
        let checked = try folder.routerd(["--check-config", bad])
        #expect(checked.status == 65, "\(checked)")
        #expect(checked.stdout.isEmpty)
        #expect(checked.stderr.split(separator: "\n").map(String.init) == [
            "\(bad):1:1: unknown key 'domian' (did you mean 'domain'?)",
            "\(bad):2:8: grace: '30 s' is not a duration such as 500ms, 5s, 2m or 1h30m",
            "\(bad):3:14: socket-mode: '999' is not a mode in octal such as 0660",
            "\(bad):4:1: log-level: no value; give one, or leave the key out for the default",
            "\(bad):5:12: tcp-ports: takes one value, not a list",
            "\(bad):6:15: store-prefix: takes one value, not a mapping",
        ], "\(checked.stderr)")
    }

    @Test func checkConfigNamesSyntaxErrorsTwiceGivenKeysRulesBetweenFlagsAndMissingFiles() throws {
        let folder = Folder()
        let syntax = try folder.write("syntax.yaml", "grace: 5s\ndomain: [a.com,\n")
        let broken = try folder.routerd(["--check-config", syntax])
        #expect(broken.status == 65 && broken.stderr.hasPrefix("\(syntax):3:1: not valid YAML: "), "\(broken)")
        let twice = try folder.write("twice.yaml", "grace: 5s\ngrace: 6s\n")
        let repeated = try folder.routerd(["--check-config", twice])
        #expect(repeated.status == 65 && repeated.stderr.contains("'grace' is given more than once"), "\(repeated)")
        // A rule between flags, broken in the file: the line of the flag it names.
        let rule = try folder.write("rule.yaml", "grace: 5s\nhttp: 8080\n")
        let refused = try folder.routerd(["--check-config", rule])
        #expect(refused.status == 65 && refused.stderr == "\(rule):2: --http needs --http-tokens FILE: the API takes only bearer tokens\n", "\(refused)")
        let list = try folder.write("list.yaml", "- grace\n")
        #expect(try folder.routerd(["--check-config", list]).stderr.contains("must be a mapping of keys to values"))
        let missing = try folder.routerd(["--check-config", folder.path + "/none.yaml"])
        #expect(missing.status == 65 && missing.stderr.contains("cannot read the configuration file: No such file or directory"), "\(missing)")
    }

    @Test func checkConfigReadsNamespacesAndNamesEachProblemWithItsLine() throws {
        let folder = Folder()
        let good = try folder.write("ns.yaml", """
            domain: example.com
            namespaces:
              - name: web
                domains: [web.example.com]
                tcp-ports: 41000-41009
                members: {users: [alice], groups: [webdev], tokens: [ci-bot]}
                admins: [alice]
                quota: {routes: 100, tcp-ports: 5, longest-ttl: 24h}
                member-quota: {routes: 10}
              - name: home
                kind: user
                template: "{user}.users.example.com"
                members: {groups: [staff]}
            """)
        let checked = try folder.routerd(["--check-config", good])
        #expect(checked.status == 0 && checked.stdout == "\(good): OK (2 keys, 2 namespaces)\n", "\(checked)")
        let bad = try folder.write("nsbad.yaml", """
            namespaces:
              - name: web
                kind: teem
                domians: [web.example.com]
              - name: a
                domains: [a.example.com]
                quota: {routes: many, cows: 1}
              - name: u
                kind: user
            """)
        let refused = try folder.routerd(["--check-config", bad])
        #expect(refused.status == 65)
        #expect(refused.stderr.split(separator: "\n").map(String.init) == [
            "\(bad):4:5: namespaces: unknown field 'domians' (did you mean 'domains'?); a namespace has name, kind, domains, template, tcp-ports, members, admins, quota, member-quota",
            "\(bad):3:11: namespace web: kind is team or user",
            "\(bad):7:21: namespace a: quota: routes is a whole number, not 'many'",
            "\(bad):7:27: namespace a: quota: 'cows' is not a quota; quotas are routes, tcp-ports, session-routes, longest-ttl",
            "\(bad):8:5: namespace u: a user namespace needs a template such as '{user}.users.example.com'",
        ], "\(refused.stderr)")
        let overlap = try folder.write("overlap.yaml", "namespaces:\n  - name: a\n    domains: [a.example.com]\n  - name: b\n    domains: [x.a.example.com]\n")
        let clash = try folder.routerd(["--check-config", overlap])
        #expect(clash.status == 65 && clash.stderr == "\(overlap):4:5: namespaces: namespace 'b' owns x.a.example.com, which overlaps a.example.com of namespace 'a': namespaces never overlap\n", "\(clash)")
    }

    @Test func readmesNamespacesExampleChecksOK() throws {
        let folder = Folder()
        let example = try folder.write("readme.yaml", try readmeExample(under: "## Namespaces and quotas"))
        let checked = try folder.routerd(["--check-config", example])
        #expect(checked.status == 0 && checked.stdout.hasSuffix("OK (2 keys, 2 namespaces)\n"), "\(checked)")
    }

    @Test func everyFlagHasAKey() throws {
        // routerd's own list of its flags, against a file giving each of them: no key unknown.
        let folder = Folder()
        let dump = try folder.routerd(["--experimental-dump-help"])
        let json = try JSONParser.parse(dump.stdout)
        var names: [String] = []
        func items(_ value: JSONValue?) -> [JSONValue] {
            if case .array(let items)? = value { return items }
            return []
        }
        for argument in items(json["command"]?["arguments"]) {
            for name in items(argument["names"]) where name["kind"]?.stringValue == "long" {
                if let flag = name["name"]?.stringValue, !["config", "check-config", "help", "version"].contains(flag) {
                    names.append(flag)
                }
            }
        }
        #expect(names.count > 30, "\(dump.stdout.prefix(300))")
        let all = try folder.write("all.yaml", names.map { "\($0): x" }.joined(separator: "\n") + "\n")
        let checked = try folder.routerd(["--check-config", all])
        #expect(!checked.stderr.contains("unknown key"), "\(checked.stderr)")
    }

    @Test func theFileSetsWhatTheCommandLineDoesNotAndAFlagOverridesItsKey() throws {
        let folder = Folder()
        let config = try folder.write("routerd.yaml", "domain: example.org\nrandom-length: 4\n")
        let daemon = try RouterdProcess(["--config", config, "--domain", "example.com"])
        let client = try LineClient(path: daemon.socket)
        let named = try client.request(#"{"op":"add","key":"shop","tunnel":"t"}"#)
        #expect(named["result"]?["route"]?["key"]?.stringValue == "shop.example.com", "the flag's domain, not the file's: \(named)")
        let random = try client.request(#"{"op":"add","random":true,"tunnel":"t"}"#)
        let key = random["result"]?["route"]?["key"]?.stringValue ?? ""
        #expect(key.hasSuffix(".example.com") && key.split(separator: ".")[0].count == 4, "the file's random-length: \(random)")
    }

    @Test func aBadFileAtStartIsRefusedWithItsLineAndExit65() throws {
        let folder = Folder()
        let config = try folder.write("routerd.yaml", "domain: example.com\ngrace: soon\n")
        let refused = try folder.routerd(["--config", config, "--socket", folder.path + "/r.sock"])
        #expect(refused.status == 65, "\(refused)")
        #expect(refused.stderr == "routerd: \(config):2:8: grace: 'soon' is not a duration such as 500ms, 5s, 2m or 1h30m\n", "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/r.sock"))
        let rule = try folder.write("rule.yaml", "db: /tmp/x.db\nstore: redis://127.0.0.1:1\n")
        let ruled = try folder.routerd(["--config", rule, "--socket", folder.path + "/r.sock"])
        #expect(ruled.status == 65 && ruled.stderr.hasPrefix("routerd: \(rule):"), "\(ruled)")
        #expect(ruled.stderr.contains("--db and --store"), "\(ruled)")
    }

    @Test func sighupAppliesTheLogLevelNamesKeysThatNeedARestartAndKeepsAllOnABadFile() throws {
        let folder = Folder()
        let config = try folder.write("routerd.yaml", "domain: example.com\nlog-level: notice\n")
        let daemon = try RouterdProcess(["--config", config])
        func connect() throws {
            let client = try LineClient(path: daemon.socket)
            _ = try client.request(#"{"op":"ping"}"#)
            client.close()
        }
        try connect()
        // At notice, a connection is not a line of the log.
        #expect(!daemon.process.stderr.contains("] connected"))
        try folder.write("routerd.yaml", "domain: example.org\nlog-level: info\ngrace: 1m\n")
        daemon.process.signal(SIGHUP)
        #expect(eventually { daemon.process.stderr.contains("SIGHUP: read \(config) (3 keys)") }, "\(daemon.process.stderr)")
        #expect(daemon.process.stderr.contains("SIGHUP: \(config) changes domain, grace, which take effect at the next start"), "\(daemon.process.stderr)")
        try connect()
        #expect(eventually { daemon.process.stderr.contains("] connected") }, "the new level applies at once: \(daemon.process.stderr)")
        // The domain stays the running one.
        let client = try LineClient(path: daemon.socket)
        #expect(try client.request(#"{"op":"add","key":"a","tunnel":"t"}"#)["result"]?["route"]?["key"]?.stringValue == "a.example.com")
        client.close()

        // A broken file: every problem logged, nothing changed (the level stays info).
        try folder.write("routerd.yaml", "domain: example.org\nlog-level: loud\n")
        daemon.process.signal(SIGHUP)
        #expect(eventually { daemon.process.stderr.contains("has 1 problem; the running configuration stays") }, "\(daemon.process.stderr)")
        #expect(daemon.process.stderr.contains("SIGHUP: \(config):2:12: log-level: 'loud' is not a level"), "\(daemon.process.stderr)")
        let before = daemon.process.stderr.components(separatedBy: "] connected").count
        try connect()
        #expect(eventually { daemon.process.stderr.components(separatedBy: "] connected").count == before + 1 })
        #expect(try daemon.stop().status == 0)
    }
}
