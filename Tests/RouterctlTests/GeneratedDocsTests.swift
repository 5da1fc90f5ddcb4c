import Foundation
import RouterProtocol
import RouterTestSupport
import Testing
@testable import routerctl

/// The committed completions must be what the current command definitions generate
/// (`scripts/generate-docs.sh` rewrites them); the hand-written man pages must document what the
/// command definitions hold, and read as man pages.
@Suite("Completions, man pages and help")
struct GeneratedDocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test(arguments: ["bash", "zsh", "fish"])
    func committedCompletionScriptMatchesTheCommandDefinitions(shell: String) throws {
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let generated = try ChildProcess(productsDirectory + "/routerctl", ["--generate-completion-script", shell], directory: dir).wait()
        #expect(generated.status == 0)
        let committed = try String(contentsOfFile: "\(Self.root)/completions/routerctl.\(shell)", encoding: .utf8)
        #expect(generated.stdout == committed, "completions/routerctl.\(shell) is stale: run scripts/generate-docs.sh")
    }

    /// One command's definition, as `--experimental-dump-help` prints it.
    struct Command {
        var name: String
        var discussion: String
        var options: [(long: String?, short: String?, defaultValue: String?)]
        var subcommands: [Command]

        init(_ json: JSONValue) {
            name = json["commandName"]?.stringValue ?? ""
            discussion = json["discussion"]?.stringValue ?? ""
            options = []
            if case .array(let arguments)? = json["arguments"] {
                for argument in arguments where argument["shouldDisplay"] != .bool(false) {
                    guard case .array(let names)? = argument["names"], !names.isEmpty else { continue }
                    let long = names.first { $0["kind"]?.stringValue == "long" }?["name"]?.stringValue
                    let short = names.first { $0["kind"]?.stringValue == "short" }?["name"]?.stringValue
                    options.append((long, short, argument["defaultValue"]?.stringValue))
                }
            }
            if case .array(let subs)? = json["subcommands"] {
                subcommands = subs.map(Command.init).filter { $0.name != "help" }
            } else {
                subcommands = []
            }
        }
    }

    static func definition(of executable: String) throws -> Command {
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dump = try ChildProcess(productsDirectory + "/" + executable, ["--experimental-dump-help"], directory: dir).wait()
        return Command(try JSONParser.parse(dump.stdout)["command"] ?? .null)
    }

    /// The lines of a man page from the `.It` line naming an option (`Fl -name`) up to the next `.It`.
    static func item(_ spelled: String, in page: [Substring]) -> String? {
        guard let start = page.firstIndex(where: { $0 == ".It \(spelled)" || $0.hasPrefix(".It \(spelled) ") }) else { return nil }
        let end = page[(start + 1)...].firstIndex { $0.hasPrefix(".It") || $0.hasPrefix(".El") } ?? page.endIndex
        return page[start..<end].joined(separator: "\n")
    }

    @Test(arguments: [("routerd", "man/routerd.8"), ("routerctl", "man/routerctl.1"), ("routergw", "man/routergw.8")])
    func manPageDocumentsEveryOptionWithItsDefault(executable: String, page: String) throws {
        let text = try String(contentsOfFile: "\(Self.root)/\(page)", encoding: .utf8)
        let lines = text.split(separator: "\n")
        let top = try Self.definition(of: executable)
        for command in [top] + top.subcommands {
            if command.name != top.name {
                #expect(text.contains("Cm \(command.name)\n") || text.contains("Cm \(command.name) "),
                        "\(page) documents the command \(command.name)")
            }
            for option in command.options where option.long != "help" && option.long != "version" {
                let flag = option.long.map { "--" + $0 } ?? "-" + option.short!
                // `.It Fl -name`, or `.It Fl o , -output` for an option with a short name too.
                let spelled = option.short.map { "Fl \($0) , -\(option.long!)" } ?? "Fl \(flag.dropFirst())"
                guard let item = Self.item(spelled, in: lines) else {
                    Issue.record("\(page) has no item for \(command.name) \(flag)")
                    continue
                }
                if let value = option.defaultValue {
                    #expect(item.contains("Default: \(value)") || item.contains("Default:\n.Ql \(value)"),
                            "\(page): \(command.name) \(flag) shows its default \(value): \(item)")
                }
            }
        }
        for section in ["SYNOPSIS", "DESCRIPTION", "\"EXIT STATUS\"", "ENVIRONMENT", "FILES", "EXAMPLES", "\"SEE ALSO\""] {
            #expect(text.contains(".Sh \(section)\n") || text.contains(".Sh \(section.replacingOccurrences(of: "\"", with: ""))\n"),
                    "\(page) has a \(section) section")
        }
    }

    @Test func routerdsPageHasSignalsAndNoSubcommandInItsSynopsis() throws {
        let text = try String(contentsOfFile: "\(Self.root)/man/routerd.8", encoding: .utf8)
        #expect(text.contains(".Sh SIGNALS\n"))
        #expect(!text.contains("subcommand"))
    }

    @Test func routerctlsPageListsEveryExitStatus() throws {
        let text = try String(contentsOfFile: "\(Self.root)/man/routerctl.1", encoding: .utf8)
        for status in [ExitStatus.ok, ExitStatus.notFound, ExitStatus.refused, ExitStatus.conflict, ExitStatus.quotaExceeded, ExitStatus.usage,
                       ExitStatus.unavailable, ExitStatus.software, ExitStatus.noPermission, ExitStatus.interrupted] {
            #expect(text.contains("\n.It \(status)\n"), "EXIT STATUS lists \(status)")
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/man"), "needs man-db"),
          arguments: ["man/routerd.8", "man/routerctl.1", "man/routergw.8"])
    func manReadsThePageWithoutWarnings(page: String) throws {
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shown = try ChildProcess("/usr/bin/man", ["-l", "\(Self.root)/\(page)"], environment: ["MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat"],
                              directory: dir).wait()
        #expect(shown.status == 0)
        #expect(shown.stderr.isEmpty, "\(page): \(shown.stderr)")
        #expect(shown.stdout.contains("EXIT STATUS"))
        for line in shown.stdout.split(separator: "\n") where line.count > 80 {
            Issue.record("\(page): a line of \(line.count) columns at MANWIDTH=80: \(line)")
        }
        // A quoted term's closing quote right after it, not after the words that follow.
        #expect(!shown.stdout.contains("’’"), "\(page): a quote closed twice")
    }

    /// Every line `--help` prints fits in 80 columns, the USAGE line of every subcommand included
    /// (the argument parser prints it on one line, however long).
    @Test(arguments: ["routerd", "routerctl", "routergw"])
    func everyHelpLineFitsIn80Columns(executable: String) throws {
        let top = try Self.definition(of: executable)
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for command in [top] + top.subcommands {
            let words = command.name == top.name ? ["--help"] : [command.name, "--help"]
            let help = try ChildProcess(productsDirectory + "/" + executable, words, environment: ["COLUMNS": "80"], directory: dir).wait()
            for line in help.stdout.split(separator: "\n") {
                #expect(line.count <= 80, "\(executable) \(words.joined(separator: " ")): '\(line)' is \(line.count) columns")
            }
            // A default said by the text and again by the parser ("default 32m). (default: 32m)").
            let flat = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            let twice = try NSRegularExpression(pattern: #"default:? ([^ )]+)\)?\. \(default: \1\)"#)
            #expect(twice.firstMatch(in: flat, range: NSRange(flat.startIndex..., in: flat)) == nil,
                    "a default said twice: \(executable) \(words.joined(separator: " "))")
        }
    }

    @Test func helpForANameThatIsNoSubcommandIsAUsageError() throws {
        let dir = makeTemporaryDirectory("rctl-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try ChildProcess(productsDirectory + "/routerctl", ["help", "nosuch"], directory: dir).wait()
        #expect(r.status == 64 && r.stderr.contains("no subcommand 'nosuch'"), "\(r.stderr)")
        #expect(try ChildProcess(productsDirectory + "/routerctl", ["help", "add"], directory: dir).wait().status == 0)
    }

    /// `--help` keeps every indented line of a discussion (lists, examples) whole at 80 columns:
    /// the argument parser wraps paragraphs at word boundaries but would break such a line
    /// and lose its indentation.
    @Test(arguments: ["routerd", "routerctl", "routergw"])
    func helpKeepsIndentedLinesWholeAt80Columns(executable: String) throws {
        let top = try Self.definition(of: executable)
        for command in [top] + top.subcommands {
            for line in command.discussion.split(separator: "\n") where line.hasPrefix(" ") {
                #expect(line.count <= 80, "\(command.name): '\(line)' is \(line.count) columns")
            }
        }
    }
}
