import Foundation
import Testing

/// What a finished process left: its exit status and what it wrote.
struct Finished {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The folder holding the built executables (beside the test bundle).
let productsDirectory: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent().path
}()

func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/rctl-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

/// A child process started with posix_spawn (Foundation's Process does not pass SIGTERM on
/// and can hang in waitUntilExit off the main thread), its output going to files.
final class Child {
    let pid: pid_t
    let outPath: String
    let errPath: String
    private(set) var status: Int32?

    init(_ executable: String, _ arguments: [String], stdin: String = "", environment: [String: String] = [:],
         directory: String, ownProcessGroup: Bool = false) throws {
        let inPath = directory + "/stdin-\(UUID().uuidString)"
        outPath = directory + "/stdout-\(UUID().uuidString)"
        errPath = directory + "/stderr-\(UUID().uuidString)"
        try stdin.write(toFile: inPath, atomically: false, encoding: .utf8)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = nil
        env["ROUTER_SOCKET"] = nil
        for (k, v) in environment { env[k] = v }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        // A clean signal state: the test runner's threads may block or ignore signals.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            flags |= POSIX_SPAWN_SETPGROUP
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw SpawnError(description: "spawn \(executable): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    func signal(_ sig: Int32) { kill(pid, sig) }

    /// Signals the child's whole process group (started with `ownProcessGroup`), its children too.
    func signalGroup(_ sig: Int32) { kill(-pid, sig) }

    /// Waits up to `timeout` seconds; kills the child (and records -9) if it is still running.
    @discardableResult
    func wait(timeout: Double = 30) -> Finished {
        if status == nil {
            let deadline = Date().addingTimeInterval(timeout)
            var raw: Int32 = 0
            while true {
                let r = waitpid(pid, &raw, WNOHANG)
                if r == pid { break }
                if Date() > deadline {
                    kill(pid, SIGKILL)
                    waitpid(pid, &raw, 0)
                    raw = 9
                    break
                }
                usleep(5_000)
            }
            // WIFEXITED / WEXITSTATUS, spelled out (the C macros do not import).
            status = raw & 0x7F == 0 ? (raw >> 8) & 0xFF : -(raw & 0x7F)
        }
        return Finished(status: status!, stdout: stdout, stderr: stderr)
    }
}

struct SpawnError: Error, CustomStringConvertible {
    var description: String
}

/// A routerd binary on a socket in a fresh folder; `stop()` ends it and removes the folder.
final class Daemon {
    let directory: String
    let socket: String
    let process: Child

    init(_ arguments: [String] = []) throws {
        directory = makeTemporaryDirectory()
        socket = directory + "/r.sock"
        process = try Child(productsDirectory + "/routerd",
                            ["--socket", socket, "--domain", "example.com", "--log-level", "error", "--grace", "300ms"] + arguments,
                            directory: directory)
        let up = run(["ping", "--wait", "10s", "-q"])
        guard up.status == 0 else {
            stop()
            throw SpawnError(description: "routerd did not start: \(up.stderr) \(process.stderr)")
        }
    }

    /// Runs routerctl against this daemon and waits for it.
    @discardableResult
    func run(_ arguments: [String], stdin: String = "", environment: [String: String] = [:], timeout: Double = 60) -> Finished {
        do {
            let child = try start(arguments, stdin: stdin, environment: environment)
            return child.wait(timeout: timeout)
        } catch {
            return Finished(status: -1, stdout: "", stderr: "\(error)")
        }
    }

    /// Starts routerctl against this daemon without waiting.
    func start(_ arguments: [String], stdin: String = "", environment: [String: String] = [:]) throws -> Child {
        var env = environment
        if env["ROUTER_SOCKET"] == nil { env["ROUTER_SOCKET"] = socket }
        return try Child(productsDirectory + "/routerctl", arguments, stdin: stdin, environment: env, directory: directory)
    }

    func stop() {
        process.signal(SIGTERM)
        process.wait(timeout: 10)
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs `body` against a fresh routerd and always stops it afterwards.
func withDaemon(_ arguments: [String] = [], _ body: (Daemon) throws -> Void) throws {
    let daemon = try Daemon(arguments)
    defer { daemon.stop() }
    try body(daemon)
}

/// Polls `condition` until true or `timeout` seconds pass.
func eventually(timeout: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}
