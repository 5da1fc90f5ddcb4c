#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RouterTestSupport
import Testing

/// The processes tests start hold nothing of the test runner's but their standard streams, so
/// a pipe or socket another test holds ends when that test closes it.
@Suite("test support: child processes")
struct ChildProcessTests {
    @Test func aChildInheritsOnlyItsStandardStreams() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)  // not close-on-exec: what ChildProcess must keep from the child
        defer { close(fds[0]); close(fds[1]) }
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let listing = try ChildProcess("/bin/sh", ["-c", "ls /proc/$$/fd"], directory: directory).wait(timeout: 10)
        let open = listing.stdout.split(separator: "\n").compactMap { Int32($0) }.sorted()
        // The shell's own three, and the descriptor `ls` reads the directory with.
        #expect(!open.contains(fds[0]) && !open.contains(fds[1]), "\(open)")
        #expect(open.filter { $0 > 2 }.count <= 1, "\(open)")
    }
}
