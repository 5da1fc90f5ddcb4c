import Foundation

/// BIND 9's named on a loopback port, with a configuration of the test's own, in the
/// foreground (`-g`), one worker thread. Its folder and files are open to every user: named
/// drops privileges as it starts (as root it keeps no CAP_DAC_OVERRIDE), so files it must read
/// or write are not left to depend on who made them.
public final class NamedProcess {
    public static let path = "/usr/sbin/named"
    /// Whether named is installed (scripts/install-packages.sh test installs bind9).
    public static let isInstalled = FileManager.default.isExecutableFile(atPath: path)

    public let folder: String
    public let port: Int
    public let process: ChildProcess

    /// Starts named on `port` with `configuration(folder)` beside `files` (name → content).
    /// Throws with what named wrote when it does not start (a port taken, a bad file).
    public init(port: Int, files: [String: String] = [:], configuration: (String) -> String) throws {
        folder = makeTemporaryDirectory("named-")
        self.port = port
        chmod(folder, 0o777)
        for (name, text) in files.merging(["named.conf": configuration(folder)], uniquingKeysWith: { $1 }) {
            try text.write(toFile: folder + "/" + name, atomically: false, encoding: .utf8)
            chmod(folder + "/" + name, 0o666)
        }
        process = try ChildProcess(Self.path, ["-g", "-c", folder + "/named.conf", "-n", "1"], directory: folder)
        try process.waitUntil("named should start on port \(port)", timeout: 30) {
            process.poll() != nil || process.stderr.contains(" running\n")
        }
        guard process.poll() == nil else {
            throw LaunchError("named did not start on port \(port): \(process.stderr.suffix(2000))")
        }
        // named goes on running when one of its sockets cannot be made ("creating TCP socket:
        // address in use"): a test would then find UDP answered and TCP refused.
        guard !process.stderr.contains("address in use") else {
            _ = try? process.terminate("named")
            throw LaunchError("named could not take port \(port): \(process.stderr.suffix(2000))")
        }
    }

    /// Starts named on a port drawn at random below the ephemeral range (`freeTCPPort()`),
    /// drawing again (up to five times) when it is taken for TCP or UDP: named cannot be given
    /// port 0.
    public static func start(files: [String: String] = [:], configuration: (_ folder: String, _ port: Int) -> String) throws -> NamedProcess {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = freeTCPPort()
            do { return try NamedProcess(port: port, files: files) { configuration($0, port) } } catch { lastError = error }
        }
        throw lastError ?? LaunchError("named did not start")
    }

    /// The `options` block every test's named shares: its folder, a loopback port, no
    /// recursion, no NOTIFY of its own.
    public static func options(folder: String, port: Int) -> String {
        """
        options {
            directory "\(folder)";
            pid-file "\(folder)/named.pid";
            session-keyfile "\(folder)/session.key";
            listen-on port \(port) { 127.0.0.1; };
            listen-on-v6 { none; };
            recursion no;
            dnssec-validation no;
            notify no;
        };
        controls { };
        """
    }

    deinit {
        _ = try? process.terminate("named")
        try? FileManager.default.removeItem(atPath: folder)
    }
}
