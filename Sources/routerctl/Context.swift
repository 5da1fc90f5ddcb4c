import ArgumentParser
import RouterClient
import RouterProtocol

/// Where a command runs: its output settings and its connection. On the command line each
/// invocation connects once; in the shell every line shares the shell's connection.
final class Context {
    let options: GlobalOptions
    let terminal: Terminal
    /// True inside the interactive or scripted shell.
    let inShell: Bool
    private let connector: () throws(ClientError) -> RouterClient
    private let onConnectionLost: () -> Void

    var format: OutputFormat { options.output }
    var quiet: Bool { options.quiet }

    init(options: GlobalOptions, inShell: Bool = false,
         connector: @escaping () throws(ClientError) -> RouterClient, onConnectionLost: @escaping () -> Void = {}) {
        self.options = options
        self.terminal = Terminal(noColor: options.noColor)
        self.inShell = inShell
        self.connector = connector
        self.onConnectionLost = onConnectionLost
    }

    /// A context for one command-line invocation: one connection, opened on first use.
    static func oneShot(_ options: GlobalOptions) -> Context {
        var client: RouterClient?
        return Context(options: options, connector: { () throws(ClientError) -> RouterClient in
            if let client { return client }
            let fresh = try options.connect(timeout: options.timeout.value)
            fresh.isInterrupted = { Interrupt.isSet }
            client = fresh
            return fresh
        })
    }

    func connection() throws(ClientError) -> RouterClient {
        let client = try connector()
        client.timeout = options.timeout.value
        return client
    }

    /// Sends one request and returns its result; refusals throw.
    func call(_ op: String, _ arguments: [(String, JSONValue)] = []) throws(ClientError) -> JSONValue {
        try connection().call(op, arguments).result
    }

    func out(_ line: String) { terminal.out(line) }

    func json(_ value: JSONValue) { terminal.out(JSONWriter.encode(value)) }

    /// Prints an error the way this output format wants and returns its exit status.
    @discardableResult
    func report(_ error: ClientError, prefix: String = "") -> Int32 {
        switch error.kind {
        case .connectionClosed, .timedOut, .malformedReply, .interrupted: onConnectionLost()
        default: break
        }
        if format == .json {
            terminal.err(JSONWriter.encode(error.object))
        } else {
            terminal.err(terminal.paint("error:", .red, stderr: true) + " " + prefix + error.description)
            if let hint = tokenHint(error) { terminal.err(terminal.paint("hint:", .yellow, stderr: true) + " " + hint) }
        }
        return ExitStatus.of(error)
    }

    /// What to do about a refused token, in routerctl's terms rather than HTTP's: which
    /// option or variable gives one, or that the file given is routerd's own token list.
    func tokenHint(_ error: ClientError) -> String? {
        guard options.httpURL != nil, error.daemonError?.code == .unauthorized else { return nil }
        guard let token = try? options.bearerToken() else {
            return "routerctl sent no token: give --token-file FILE (a file of mode 600 whose first line is the token) or set ROUTER_TOKEN"
        }
        if token.contains(" "), let file = options.tokenFile {
            return "\(file) looks like routerd's --http-tokens file (PRINCIPAL TOKEN lines); --token-file wants a file that holds just the token"
        }
        return nil
    }

    /// Runs a command body, turning client errors into printed messages and exit statuses.
    func run(_ body: () throws(ClientError) -> Int32) -> Int32 {
        do {
            return try body()
        } catch {
            return report(error)
        }
    }
}

/// A subcommand that talks to the daemon. It runs the same way from the command line and from
/// the shell, which parses its lines with these same definitions.
protocol RouterCommand: ParsableCommand {
    var global: GlobalOptions { get }
    /// Does the work; returns the exit status. Client errors may be thrown.
    func execute(in context: Context) throws(ClientError) -> Int32
}

extension RouterCommand {
    func run() throws {
        let context = Context.oneShot(global)
        let status = context.run { () throws(ClientError) -> Int32 in try execute(in: context) }
        context.terminal.flush()
        if status != 0 { throw ExitCode(status) }
    }
}

/// `k=v` pairs from repeated `--label` options.
/// A key given twice is refused (which value would be meant?), as routerd refuses a JSON object
/// that names a member twice.
func parseLabels(_ labels: [String]) throws -> [(String, JSONValue)] {
    var seen: Set<String> = []
    return try labels.map { text in
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw ValidationError("--label takes key=value, not '\(text)'")
        }
        let key = String(text[..<eq])
        guard seen.insert(key).inserted else {
            throw ValidationError("--label \(key) is given twice; give each label once")
        }
        return (key, .string(String(text[text.index(after: eq)...])))
    }
}
