import Foundation
import Testing

/// The committed completions must be what the current command definitions generate
/// (`scripts/generate-docs.sh` rewrites them; `.ci/run` checks the man pages the same way).
@Suite("Generated completions and man pages")
struct GeneratedDocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test(arguments: ["bash", "zsh", "fish"])
    func committedCompletionScriptMatchesTheCommandDefinitions(shell: String) throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let generated = try Child(productsDirectory + "/routerctl", ["--generate-completion-script", shell], directory: dir).wait()
        #expect(generated.status == 0)
        let committed = try String(contentsOfFile: "\(Self.root)/completions/routerctl.\(shell)", encoding: .utf8)
        #expect(generated.stdout == committed, "completions/routerctl.\(shell) is stale: run scripts/generate-docs.sh")
    }

    @Test(arguments: ["man/routerctl.1", "man/routerd.8"])
    func manPageDocumentsEverySubcommandAndExitStatus(page: String) throws {
        let text = try String(contentsOfFile: "\(Self.root)/\(page)", encoding: .utf8)
        #expect(text.contains("EXIT STATUS"))
        if page.hasSuffix(".1") {
            for command in ["add", "delete", "lookup", "list", "watch", "touch", "stats", "ping", "shell", "batch"] {
                #expect(text.contains(".It Em \(command)\n"), "\(command)")
            }
        }
    }
}
