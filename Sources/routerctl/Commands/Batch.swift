#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import RouterClient
import RouterProtocol

/// A command that a batch line may hold: it turns into plain requests to pipeline.
protocol BatchableCommand {
    var requests: [(op: String, arguments: [(String, JSONValue)])] { get }
    /// Whether `not_found` counts as success (delete --ignore-missing).
    var toleratesMissing: Bool { get }
}

extension BatchableCommand {
    var toleratesMissing: Bool { false }
}

extension Add: BatchableCommand {
    var requests: [(op: String, arguments: [(String, JSONValue)])] { [("add", arguments)] }
}

extension Delete: BatchableCommand {
    var requests: [(op: String, arguments: [(String, JSONValue)])] { keys.map { ("delete", [("key", .string($0))]) } }
    var toleratesMissing: Bool { ignoreMissing }
}

extension Touch: BatchableCommand {
    var requests: [(op: String, arguments: [(String, JSONValue)])] {
        var args: [(String, JSONValue)] = [("key", .string(key))]
        if let ttl { args.append(("ttl", .number(ttl.seconds))) }
        return [("touch", args)]
    }
}

extension Lookup: BatchableCommand {
    var requests: [(op: String, arguments: [(String, JSONValue)])] { [("lookup", [(field, .string(value))])] }
}

struct Batch: RouterCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run many commands from stdin or a file, pipelined.",
        usage: "routerctl batch [<options>] [--file <path>] [--atomic]",
        discussion: """
            One command per line, in any of three forms:
              - a routerctl command line with shell quoting: add foo --tunnel t1 --ttl 5m
                (add, delete, touch and lookup; a leading `routerctl` is allowed);
              - a raw protocol request, a line starting with { that has an "op";
              - a route line as `routerctl list -o json` prints it, which is added
                again (key, tunnel, target, labels, ttl, owner).

            Blank lines and # comments are skipped. Requests are pipelined, thousands in flight, so a batch \
            goes at the daemon's pace. Failures are reported in line order on stderr, each with its line number \
            and the daemon's error, then `N ok, M failed`. A line that does not parse is that \
            line's failure (status 2); the exit status is the highest of any line.

            With --atomic the lines go as one protocol `batch` request: all apply or none does. It \
            must fit in the daemon's --max-line (64 KiB unless raised); a larger batch is refused \
            before anything is sent, naming the limit.

            EXAMPLES:
              printf 'add a --tunnel t1\\nadd b --tunnel t1 --ttl 5m\\n' | routerctl batch
              routerctl batch -f routes.txt --atomic
              routerctl list -o json | routerctl --socket /run/other.sock batch
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: [.short, .customLong("file")], help: ArgumentHelp("Read commands from this file instead of stdin.", valueName: "path"),
            completion: .file())
    var file: String?

    @Flag(help: "Apply every line or none, as one protocol batch request.")
    var atomic = false

    @Option(help: .hidden)
    var window = 4096

    /// One line turned into requests, or why it could not be.
    enum Parsed {
        case requests([(op: String, arguments: [(String, JSONValue)])], toleratesMissing: Bool)
        case raw(JSONValue)
        case invalid(String, status: Int32)
    }

    func execute(in context: Context) throws(ClientError) -> Int32 {
        let input: UnsafeMutablePointer<FILE>
        if let file {
            guard let opened = fopen(file, "r") else {
                context.terminal.err("error: cannot read \(file): \(String(cString: strerror(errno)))")
                return ExitStatus.usage
            }
            input = opened
        } else {
            guard let standardInput = fdopen(0, "r") else { return ExitStatus.usage }
            input = standardInput
        }
        defer { if file != nil { fclose(input) } }
        return atomic ? try runAtomic(input, context) : try runPipelined(input, context)
    }

    /// Reads lines with their numbers, skipping blanks and comments, and hands each over as
    /// its bytes (leading blanks and the line end removed; valid only during the call).
    func lineBytes(_ input: UnsafeMutablePointer<FILE>,
                   _ body: (Int, UnsafeBufferPointer<UInt8>) throws(ClientError) -> Void) throws(ClientError) {
        var number = 0
        var raw: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(raw) }
        while true {
            let length = getline(&raw, &capacity, input)
            guard length >= 0, let raw else { return }
            number += 1
            let all = UnsafeBufferPointer(start: UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self), count: length)
            var from = 0, to = length
            while from < to, all[from] == 0x20 || all[from] == 0x09 { from += 1 }
            if to > from, all[to - 1] == 0x0A { to -= 1 }
            if to > from, all[to - 1] == 0x0D { to -= 1 }
            // Blank (nothing but whitespace left) or a comment.
            if from == to || all[from] == UInt8(ascii: "#") { continue }
            let rest = UnsafeBufferPointer(rebasing: all[from..<to])
            if rest.allSatisfy({ $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) }) { continue }
            if rest.contains(where: { $0 >= 0x80 }), String(decoding: rest, as: UTF8.self).allSatisfy(\.isWhitespace) { continue }
            try body(number, UnsafeBufferPointer(rebasing: all[from..<to]))
        }
    }

    /// `lineBytes` with each line as a string.
    func lines(_ input: UnsafeMutablePointer<FILE>, _ body: (Int, String) throws(ClientError) -> Void) throws(ClientError) {
        try lineBytes(input) { (number, bytes) throws(ClientError) in try body(number, String(decoding: bytes, as: UTF8.self)) }
    }

    static let commandNames = Set(Routerctl.configuration.subcommands.map { $0._commandName })

    static func parse(_ line: String) -> Parsed {
        if line.hasPrefix("{") {
            guard let value = try? JSONParser.parse(line), case .object(var members) = value else {
                return .invalid("not a JSON object", status: ExitStatus.refused)
            }
            if value["op"] != nil {
                if let op = value["op"]?.stringValue, ["list", "watch", "cancel"].contains(op) {
                    return .invalid("'\(op)' streams; batch lines are single-reply requests", status: ExitStatus.refused)
                }
                members.removeAll { $0.0 == "id" }
                return .raw(.object(members))
            }
            guard let key = value["key"]?.stringValue, value["kind"] != nil else {
                return .invalid("a { line is a protocol request (with \"op\") or a route from list -o json (with \"key\" and \"kind\")",
                                status: ExitStatus.refused)
            }
            var args: [(String, JSONValue)] = [("key", .string(key))]
            for name in ["tunnel", "target", "labels", "ttl", "owner"] {
                if let v = value[name], v != .null { args.append((name, v)) }
            }
            return .requests([("add", args)], toleratesMissing: false)
        }
        var words: [String]
        do { words = try ShellWords.split(line) } catch { return .invalid(error.description, status: ExitStatus.refused) }
        if words.first == "routerctl" { words.removeFirst() }
        words = GlobalOptions.hoist(words)
        if let first = words.first, !first.hasPrefix("-"), !Self.commandNames.contains(first) {
            return .invalid("unknown command '\(first)' (batch lines run add, delete, touch and lookup)", status: ExitStatus.refused)
        }
        if let fast = BatchLineReader.read(words) {
            return .requests(fast.requests, toleratesMissing: fast.toleratesMissing)
        }
        do {
            let command = try Routerctl.parseAsRoot(words)
            guard let batchable = command as? BatchableCommand else {
                return .invalid("'\(words.first ?? "")' cannot run in a batch (add, delete, touch and lookup can)", status: ExitStatus.refused)
            }
            if let add = command as? Add, add.session {
                return .invalid("--session routes would go with the batch's connection", status: ExitStatus.refused)
            }
            return .requests(batchable.requests, toleratesMissing: batchable.toleratesMissing)
        } catch {
            let message = Routerctl.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid command"
            return .invalid(message, status: ExitStatus.refused)
        }
    }

    /// What became of one line: its failures, reported once every earlier line's are.
    struct LineOutcome {
        var number: Int
        var left: Int
        var tolerates: Bool
        var failures: [(message: String, object: JSONValue, status: Int32)] = []
    }

    func runPipelined(_ input: UnsafeMutablePointer<FILE>, _ context: Context) throws(ClientError) -> Int32 {
        let client = try context.connection()
        var status = ExitStatus.ok
        var ok = 0
        var failed = 0
        // The settings every line consults, read once (they are property wrappers).
        let format = context.format
        let quiet = context.quiet
        let window = self.window
        // Lines by their sequence among the lines read (outcomes[0] is line `nextToReport`),
        // and the requests in flight in the order sent: routerd answers a connection's
        // requests in order, so a reply is the first in flight's (looked for further on only
        // if it is not).
        var outcomes: [LineOutcome] = []
        var outcomesStart = 0
        var inFlight: [(id: Int64, sequence: Int)] = []
        var inFlightStart = 0
        var nextSequence = 0
        var nextToReport = 0
        var nextID: Int64 = 1
        // Failures go out in line order: a line's once it and every line before it are done
        // (an unreadable line is done at once, but waits for the replies of earlier lines).
        func reportFinished() {
            while outcomesStart < outcomes.count, outcomes[outcomesStart].left == 0 {
                let outcome = outcomes[outcomesStart]
                outcomesStart += 1
                nextToReport += 1
                if outcomesStart >= 4096 {
                    outcomes.removeFirst(outcomesStart)
                    outcomesStart = 0
                }
                if outcome.failures.isEmpty { ok += 1; continue }
                failed += 1
                for failure in outcome.failures {
                    status = max(status, failure.status)
                    if format == .json {
                        context.terminal.err(JSONWriter.encode(.object([("line", .number(outcome.number)), ("error", failure.object)])))
                    } else {
                        context.terminal.err("line \(outcome.number): \(failure.message)")
                    }
                }
            }
        }
        // A success prints nothing unless -o json or -o name asks for its result.
        let needsResults = !quiet && (format == .json || format == .name)
        func receive() throws(ClientError) {
            let reply = needsResults ? try client.read() : try client.readIgnoringResults()
            guard reply.isFinal, inFlightStart < inFlight.count else { return }
            var at = inFlightStart
            if reply.id != .number(String(inFlight[at].id)) {
                guard let found = (inFlightStart..<inFlight.count).first(where: { reply.id == .number(String(inFlight[$0].id)) }) else { return }
                at = found
            }
            let sequence = inFlight[at].sequence
            if at == inFlightStart {
                inFlightStart += 1
                if inFlightStart >= 4096 {
                    inFlight.removeFirst(inFlightStart)
                    inFlightStart = 0
                }
            } else {
                inFlight.remove(at: at)
            }
            let index = sequence - nextToReport + outcomesStart
            guard index >= outcomesStart, index < outcomes.count else { return }
            switch reply {
            case .success(_, _, let result):
                if !quiet {
                    switch format {
                    case .json: context.json(result)
                    case .name: if let key = result["route"]?["key"]?.stringValue { context.out(key) }
                    default: break
                    }
                }
            case .failure(_, let error):
                if !(outcomes[index].tolerates && error.code == .notFound) {
                    outcomes[index].failures.append((error.message, error.object, ExitStatus.of(error.codeText)))
                }
            default:
                break
            }
            outcomes[index].left -= 1
            reportFinished()
        }
        var pending: [UInt8] = []
        func send(_ request: [(String, JSONValue)], sequence: Int) {
            let id = nextID
            nextID += 1
            inFlight.append((id, sequence))
            var w = JSONWriter()
            w.write(.object([("id", .number(String(id)))] + request))
            pending += w.bytes
            pending.append(0x0A)
        }
        try lineBytes(input) { (number, bytes) throws(ClientError) in
            let sequence = nextSequence
            nextSequence += 1
            if BatchPlainLine.encode(bytes, id: nextID, into: &pending) {
                inFlight.append((nextID, sequence))
                nextID += 1
                outcomes.append(LineOutcome(number: number, left: 1, tolerates: false))
            } else {
                switch Self.parse(String(decoding: bytes, as: UTF8.self)) {
                case .invalid(let message, let code):
                    let object = ProtocolError(.badRequest, message).object
                    outcomes.append(LineOutcome(number: number, left: 0, tolerates: false, failures: [(message, object, code)]))
                    reportFinished()
                    return
                case .raw(let request):
                    guard case .object(let members) = request else {
                        outcomes.append(LineOutcome(number: number, left: 0, tolerates: false))
                        return
                    }
                    outcomes.append(LineOutcome(number: number, left: 1, tolerates: false))
                    send(members, sequence: sequence)
                case .requests(let requests, let tolerates):
                    outcomes.append(LineOutcome(number: number, left: requests.count, tolerates: tolerates))
                    for r in requests { send([("op", .string(r.op))] + r.arguments, sequence: sequence) }
                    if requests.isEmpty { reportFinished() }
                }
            }
            if pending.count >= 16_384 || inFlight.count - inFlightStart >= window {
                try client.write(pending)
                pending.removeAll(keepingCapacity: true)
                while inFlight.count - inFlightStart >= window || client.hasBufferedLine { try receive() }
            }
        }
        if !pending.isEmpty { try client.write(pending) }
        while inFlightStart < inFlight.count { try receive() }
        reportFinished()
        context.terminal.err("\(ok) ok, \(failed) failed")
        return status
    }

    func runAtomic(_ input: UnsafeMutablePointer<FILE>, _ context: Context) throws(ClientError) -> Int32 {
        var ops: [JSONValue] = []
        var lineOf: [Int] = []
        var problems = 0
        var status = ExitStatus.ok
        try lines(input) { (number, line) throws(ClientError) in
            switch Self.parse(line) {
            case .invalid(let message, let code):
                context.terminal.err("line \(number): \(message)")
                problems += 1
                status = max(status, code)
            case .raw(let request):
                ops.append(request)
                lineOf.append(number)
            case .requests(let requests, _):
                for r in requests {
                    ops.append(.object([("op", .string(r.op))] + r.arguments))
                    lineOf.append(number)
                }
            }
        }
        if problems > 0 {
            context.terminal.err("nothing applied: \(problems) line(s) could not be read")
            return status
        }
        if ops.isEmpty {
            context.terminal.err("0 ok, 0 failed")
            return ExitStatus.ok
        }
        let client = try context.connection()
        var w = JSONWriter(capacity: 1 << 16)
        w.write(.object([("id", .number(1)), ("op", .string("batch")), ("atomic", .bool(true)), ("ops", .array(ops))]))
        let limit = try client.greeting.maximumLine ?? 65_536
        guard w.bytes.count <= limit else {
            context.terminal.err(context.terminal.paint("error:", .red, stderr: true) +
                " the atomic batch is \(w.bytes.count) bytes, over the daemon's line limit of \(limit) bytes (routerd --max-line);" +
                " nothing was sent: raise --max-line, split the batch, or drop --atomic")
            return ExitStatus.refused
        }
        try client.write(w.bytes + [0x0A])
        while true {
            switch try client.read() {
            case .success(_, _, let result):
                if !context.quiet, case .array(let results)? = result["results"] {
                    for r in results {
                        switch context.format {
                        case .json: context.json(r)
                        case .name: if let key = r["route"]?["key"]?.stringValue { context.out(key) }
                        default: break
                        }
                    }
                }
                context.terminal.err("\(ops.count) ok, 0 failed (atomic)")
                return ExitStatus.ok
            case .failure(_, let error):
                let index = error.details["index"]?.integerValue.map(Int.init)
                var message = error.message
                if let index, index < lineOf.count {
                    // The daemon names ops[N]; a person wants the line number.
                    if message.hasPrefix("ops["), let colon = message.firstIndex(of: ":") { message = String(message[message.index(after: colon)...].dropFirst()) }
                    message = "line \(lineOf[index]): " + message
                }
                if context.format == .json {
                    context.terminal.err(JSONWriter.encode(error.object))
                } else {
                    context.terminal.err(context.terminal.paint("error:", .red, stderr: true) + " " + message)
                }
                context.terminal.err("0 ok, \(ops.count) not applied (atomic)")
                return ExitStatus.of(error.codeText)
            default:
                continue
            }
        }
    }
}
