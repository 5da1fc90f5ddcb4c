#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import RouterClient
import RouterProtocol

struct Shell: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The interactive shell: the same commands and flags, one connection, history and completion.",
        usage: "routerctl shell [<options>]",
        discussion: """
            On a terminal (also `routerctl` with no arguments) the shell reads lines with GNU \
            readline: Tab completes command names, the current command's flags and live route \
            keys from the daemon; history is kept in ~/.routerctl_history ($ROUTERCTL_HISTFILE \
            overrides), de-duplicated across sessions. `help` and `help CMD` explain commands; \
            Ctrl-C stops a running watch (or abandons a typed line) and returns to the prompt; \
            Ctrl-D or `exit` leaves with status 0. All lines share one connection, so \
            `add --session` routes live as long as the shell; after a daemon restart the shell \
            reconnects by itself and says when the daemon's instance changed.

            With stdin not a terminal (routerctl shell < script) it runs each line without \
            prompts or history and exits with the highest status of any line.

            EXAMPLES:
              routerctl shell
              routerctl shell < setup.routerctl
            """)

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let status = isatty(0) == 1 ? Shell.runInteractive(options: global) : Shell.runScript(options: global)
        if status != 0 { throw ExitCode(status) }
    }

    static func runInteractive(options: GlobalOptions) -> Int32 {
        let session = ShellSession(options: options, interactive: true)
        return session.interactiveLoop()
    }

    static func runScript(options: GlobalOptions) -> Int32 {
        let session = ShellSession(options: options, interactive: false)
        return session.script()
    }
}

/// One shell: its connection (reopened after a daemon restart), prompt, history and the loop
/// that runs each line through the same command definitions as the command line.
final class ShellSession {
    let options: GlobalOptions
    let interactive: Bool
    let terminal: Terminal
    private var client: RouterClient?
    private var lastInstance: String?
    private var keyCache: (prefix: String, at: ContinuousClock.Instant, keys: [String], capped: Bool)?

    init(options: GlobalOptions, interactive: Bool) {
        self.options = options
        self.interactive = interactive
        terminal = Terminal(noColor: options.noColor)
    }

    var path: String { options.address }

    static var historyPath: String {
        if let explicit = getenv("ROUTERCTL_HISTFILE"), explicit.pointee != 0 { return String(cString: explicit) }
        let home = getenv("HOME").map { String(cString: $0) } ?? "."
        return home + "/.routerctl_history"
    }

    // MARK: Connection

    /// The shell's connection, reopened when the daemon went away since the last line.
    func connection() throws(ClientError) -> RouterClient {
        if let client, client.isAlive { return client }
        let reconnecting = client != nil
        client = nil
        let fresh = try options.connect(timeout: options.timeout.value)
        fresh.isInterrupted = { Interrupt.isSet }
        let instance = try fresh.greeting.instance
        if let lastInstance, lastInstance != instance {
            terminal.err(terminal.paint("note:", .yellow, stderr: true) +
                " routerd restarted (instance \(lastInstance) → \(instance)): routes and revisions from before are gone")
        } else if reconnecting && interactive {
            terminal.err("reconnected to \(path)")
        }
        lastInstance = instance
        client = fresh
        return fresh
    }

    func dropConnection() {
        client?.close()
        client = nil
    }

    var prompt: String {
        let state = (client?.isAlive ?? false) ? "" : " (not connected)"
        return "routerctl \(path)\(state)> "
    }

    // MARK: Loops

    func interactiveLoop() -> Int32 {
        Interrupt.catchSignals()
        let history = Self.historyPath
        LineEditor.configure { [unowned self] before, word in self.completions(before: before, word: word) }
        LineEditor.loadHistory(history)
        do {
            let hello = try connection().greeting
            terminal.out("routerctl \(routerctlVersion) shell: \(hello.server) \(hello.version) at \(path), " +
                         "instance \(hello.instance). Type help; Tab completes; Ctrl-D leaves.")
        } catch {
            terminal.err(terminal.paint("warning:", .yellow, stderr: true) + " \(error.description) (the shell keeps trying at each command)")
        }
        while true {
            terminal.flush()
            switch LineEditor.read(prompt: prompt) {
            case .endOfFile:
                return Interrupt.isTermination ? 128 + SIGTERM : ExitStatus.ok
            case .interrupted:
                continue
            case .line(let line):
                let trimmed = line.trimmingSpaces
                if trimmed.isEmpty { continue }
                LineEditor.remember(trimmed, saveTo: history)
                if trimmed == "exit" || trimmed == "quit" { return ExitStatus.ok }
                _ = run(line: trimmed)
                if Interrupt.isTermination { return 128 + SIGTERM }
                Interrupt.reset()
            }
        }
    }

    func script() -> Int32 {
        var status = ExitStatus.ok
        var raw: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(raw) }
        guard let input = fdopen(0, "r") else { return ExitStatus.usage }
        while getline(&raw, &capacity, input) >= 0 {
            let line = String(cString: raw!).trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line == "exit" || line == "quit" { break }
            status = max(status, run(line: line))
        }
        terminal.flush()
        return status
    }

    /// Runs one line; returns its exit status.
    func run(line: String) -> Int32 {
        var words: [String]
        do {
            words = try ShellWords.split(line)
        } catch {
            terminal.err("error: \(error.description)")
            return ExitStatus.usage
        }
        if words.first == "routerctl" { words.removeFirst() }
        words = GlobalOptions.hoist(words)
        guard let first = words.first else { return ExitStatus.ok }
        if first == "help" || first == "?" {
            help(words.dropFirst().first)
            return ExitStatus.ok
        }
        if !first.hasPrefix("-") && !Batch.commandNames.contains(first) {
            terminal.err("error: unknown command '\(first)'; type help")
            return ExitStatus.usage
        }
        let command: ParsableCommand
        do {
            command = try Routerctl.parseAsRoot(words)
        } catch {
            let code = Routerctl.exitCode(for: error)
            let message = Routerctl.fullMessage(for: error)
            if code == .success { terminal.out(message) } else { terminal.err(message) }
            return code.rawValue
        }
        guard let routerCommand = command as? RouterCommand else {
            terminal.err("error: '\(first)' does not run inside the shell")
            return ExitStatus.usage
        }
        // Every command of the shell goes over the shell's one connection: say so when a line
        // names another, rather than ignore it silently.
        let connectionFlags = ["--socket", "--url", "--token-file", "--cacert", "--timeout"]
        if let given = words.first(where: { word in connectionFlags.contains { word == $0 || word.hasPrefix($0 + "=") } }) {
            let flag = given.split(separator: "=").first.map(String.init) ?? given
            terminal.err(terminal.paint("note:", .yellow, stderr: true) +
                " \(flag) is ignored inside the shell: every command uses the shell's connection (\(path)); start routerctl with \(flag) to use another")
        }
        let context = Context(options: routerCommand.global, inShell: true,
                              connector: { () throws(ClientError) -> RouterClient in try self.connection() },
                              onConnectionLost: { self.dropConnection() })
        let status = context.run { () throws(ClientError) -> Int32 in try routerCommand.execute(in: context) }
        context.terminal.flush()
        return status
    }

    func help(_ topic: String?) {
        if let topic, let sub = Routerctl.configuration.subcommands.first(where: { $0.configuration.commandName == topic || $0._commandName == topic }) {
            terminal.out(Routerctl.helpMessage(for: sub))
            return
        }
        if let topic { terminal.err("no command '\(topic)'; the commands are below") }
        terminal.out("Commands (help CMD for one; the same flags as on the command line):")
        for sub in Routerctl.configuration.subcommands where sub != Shell.self {
            let name = sub._commandName
            // Each abstract wrapped at 80 columns, under its own indentation.
            var line = "  " + name + String(repeating: " ", count: max(1, 8 - name.count))
            let indent = String(repeating: " ", count: line.count)
            var first = true
            for word in sub.configuration.abstract.split(separator: " ") {
                if !first, line.count + 1 + word.count > 80 {
                    terminal.out(line)
                    line = indent + word
                } else {
                    line += (first ? "" : " ") + word
                }
                first = false
            }
            terminal.out(line)
        }
        terminal.out("  exit    leave the shell (or Ctrl-D); Ctrl-C stops a running watch")
    }

    // MARK: Completion

    static let builtins = ["help", "exit", "quit"]

    func completions(before: String, word: String) -> [String] {
        let words = (try? ShellWords.split(before)) ?? []
        let commands = Routerctl.configuration.subcommands.filter { $0 != Shell.self }.map { $0._commandName }
        guard let command = words.first else {
            return (commands + Self.builtins).filter { $0.hasPrefix(word) }.sorted()
        }
        if command == "help" { return commands.filter { $0.hasPrefix(word) }.sorted() }
        if word.hasPrefix("-") {
            return flags(of: command).filter { $0.hasPrefix(word) }
        }
        return keys(prefix: word)
    }

    private var flagCache: [String: [String]] = [:]

    /// The flags a subcommand's help lists (so they come from the same definitions).
    func flags(of command: String) -> [String] {
        if let cached = flagCache[command] { return cached }
        guard let sub = Routerctl.configuration.subcommands.first(where: { $0._commandName == command }) else { return [] }
        var found: [String] = []
        for token in Routerctl.helpMessage(for: sub).split(whereSeparator: { " ,\n<>[]".contains($0) }) where token.hasPrefix("-") && token.count > 1 {
            let flag = String(token)
            if flag.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), !found.contains(flag) { found.append(flag) }
        }
        flagCache[command] = found.sorted()
        return found.sorted()
    }

    /// Live keys starting with `prefix`, cached for two seconds. When more keys match than
    /// completion offers, the list shown says so and how many routes the table holds.
    func keys(prefix: String) -> [String] {
        let now = ContinuousClock.now
        if let cache = keyCache, now - cache.at < .seconds(2), prefix.hasPrefix(cache.prefix), !cache.capped {
            return cache.keys.filter { $0.hasPrefix(prefix) }
        }
        guard let client = try? connection() else { return [] }
        let (keys, capped) = liveKeys(prefix: prefix, client: client)
        keyCache = (prefix, now, keys, capped)
        if capped {
            let total = (try? client.call("stats").result["routes"]?["total"]?.integerValue).flatMap { $0 }
            let matching = prefix.isEmpty ? "" : " starting with '\(prefix)'"
            LineEditor.listNote = "(the first \(completionKeyLimit) keys\(matching); the table holds "
                + (total.map { "\($0) routes" } ?? "more") + ": type more of the name to narrow)"
        }
        return keys
    }
}

extension String {
    var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let end = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[start...end])
    }
}
