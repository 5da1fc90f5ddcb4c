import Foundation

/// What a finished process left: its exit status and what it wrote.
public struct Finished: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// The folder holding the built executables (beside the test bundle, or beside router-bench).
public let productsDirectory: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent().path
}()

/// A child process started with posix_spawn (Foundation's Process does not pass SIGTERM on
/// and can hang in waitUntilExit off the main thread), its output going to files.
public final class ChildProcess {
    public let pid: pid_t
    let outPath: String
    let errPath: String
    public private(set) var status: Int32?

    /// Starts `executable` with `arguments`, `stdin` as its input, and the environment with
    /// `environment` on top (NO_COLOR and ROUTER_SOCKET removed first); its output goes to files
    /// in `directory`. With `ownProcessGroup`, it leads a process group of its own.
    public init(_ executable: String, _ arguments: [String], stdin: String = "", environment: [String: String] = [:],
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
        // Nothing else of the test runner's: tests run in parallel, and a pipe's write end or a
        // client socket another test holds must not live on in this child (its reader would wait
        // for the child's exit to see the end, its peer for the child's to see the close).
        _ = closeFrom(&actions, 3)
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
        guard rc == 0 else { throw LaunchError("spawn \(executable): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    public var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    public func signal(_ sig: Int32) { kill(pid, sig) }

    /// Signals the child's whole process group (started with `ownProcessGroup`), its children too.
    public func signalGroup(_ sig: Int32) { kill(-pid, sig) }

    /// Whether `wait` gave up and killed the child.
    public private(set) var timedOut = false

    /// The exit status if the child has ended (reaping it), else nil; a signal is negative.
    public func poll() -> Int32? {
        if status == nil {
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
            status = Self.status(raw)
        }
        return status
    }

    /// Waits up to `timeout` seconds; kills the child (and records -9) if it is still running.
    @discardableResult
    public func wait(timeout: Double = 30) -> Finished {
        let deadline = Date().addingTimeInterval(timeout)
        while poll() == nil {
            if Date() > deadline {
                kill(pid, SIGKILL)
                var raw: Int32 = 0
                waitpid(pid, &raw, 0)
                status = -9
                timedOut = true
                break
            }
            usleep(5_000)
        }
        return Finished(status: status!, stdout: stdout, stderr: stderr)
    }

    /// Polls `ready` every 10 ms until it holds. If the process exits first, or `timeout`
    /// seconds pass (it is then killed), throws a `LaunchError` saying `what` it did not do,
    /// with everything it wrote.
    public func waitUntil(_ what: String, timeout: Double = 10, _ ready: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !ready() {
            if let status = poll() {
                throw LaunchError("\(what): it exited with \(status) first: \(stdout) \(stderr)")
            }
            if Date() > deadline {
                let output = "\(stdout) \(stderr)"
                signal(SIGKILL)
                wait()
                throw LaunchError("\(what): not within \(Int(timeout)) s: \(output)")
            }
            usleep(10_000)
        }
    }

    /// SIGTERM, then up to `timeout` seconds to exit; returns what it left. A process that does
    /// not exit is killed and reported as a `LaunchError` naming `what` it is.
    public func terminate(_ what: String, timeout: Double = 10) throws -> Finished {
        signal(SIGTERM)
        let finished = wait(timeout: timeout)
        if timedOut {
            throw LaunchError("\(what) did not exit within \(Int(timeout)) s of SIGTERM: \(finished.stderr)")
        }
        return finished
    }

    /// WIFEXITED / WEXITSTATUS, spelled out (the C macros do not import): the exit status, or
    /// minus the signal that ended the process.
    static func status(_ raw: Int32) -> Int32 {
        raw & 0x7F == 0 ? (raw >> 8) & 0xFF : -(raw & 0x7F)
    }
}

/// openssl, when installed (tests that need a certificate are skipped without it).
public let opensslPath = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// Makes a self-signed certificate for `localhost` and 127.0.0.1 (`cert.pem`, `key.pem` in
/// `directory`), valid one day; throws with openssl's stderr when it cannot.
public func makeTestCertificate(in directory: String) throws {
    guard let openssl = opensslPath else { throw LaunchError("openssl is not installed") }
    let made = try ChildProcess(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                                          "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem", "-subj", "/CN=localhost",
                                          "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], directory: directory).wait()
    guard made.status == 0 else { throw LaunchError("openssl could not make a certificate: \(made.stderr)") }
}

// posix_spawn_file_actions_addclosefrom_np(3) (glibc 2.34), which Swift's Glibc module does not export.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func closeFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32
