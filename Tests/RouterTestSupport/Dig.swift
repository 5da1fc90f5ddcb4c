import Foundation

/// BIND's `dig`, as the DNS tests ask with it: one question at a loopback port, the status and
/// the answer section read back.
public enum Dig {
    public static let path = "/usr/bin/dig"
    /// Whether dig is installed (scripts/install-packages.sh test installs bind9-dnsutils).
    public static let isInstalled = FileManager.default.isExecutableFile(atPath: path)

    /// What dig printed: the status (`NOERROR`, `NXDOMAIN`, …; `none` without one), the answer
    /// section's records with single spaces (lowercased with `foldCase`, since names compare
    /// without case), and all it wrote.
    public struct Answer: Sendable {
        public var status: String
        public var answers: [String]
        public var output: String
    }

    /// Asks 127.0.0.1 at `port` with `arguments` (name, type, options), without recursion.
    public static func ask(port: Int, _ arguments: [String], foldCase: Bool = false) throws -> Answer {
        let done = try ChildProcess(path, ["@127.0.0.1", "-p", "\(port)", "+norec", "+time=5", "+tries=1"] + arguments,
                                    directory: NSTemporaryDirectory()).wait(timeout: 30)
        let lines = done.stdout.split(separator: "\n").map(String.init)
        let status = lines.first { $0.contains("status: ") }.flatMap { $0.split(separator: "status: ").last?.split(separator: ",").first }
        var answers: [String] = []
        var inAnswer = false
        for line in lines {
            if line.hasPrefix(";; ANSWER SECTION") { inAnswer = true; continue }
            if inAnswer && (line.isEmpty || line.hasPrefix(";;")) { inAnswer = false }
            if inAnswer {
                let record = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
                answers.append(foldCase ? record.lowercased() : record)
            }
        }
        return Answer(status: status.map(String.init) ?? "none", answers: foldCase ? answers.sorted() : answers, output: done.stdout + done.stderr)
    }
}
