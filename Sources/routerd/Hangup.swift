#if canImport(Glibc)
import Glibc
#endif
import ConfigFile
import DomainRouter
import Logging
import RouterHTTP
import ServiceLifecycle
import ServiceNotify
import UnixSignals

/// What SIGHUP does to a running routerd, as a `Service`. With `--config`, the file is read
/// again: a file with any problem keeps the running configuration whole and logs each problem;
/// a good one applies what can change while running (`log-level`, `log-file`, `http-tokens`,
/// `namespaces`) and names every other key it changed as needing a restart, keeping its running
/// value. Then,
/// file or not, `--log-file` is opened again (logrotate moves the file, then signals) and the
/// HTTP tokens are read again (a revoked token stops working). systemd hears RELOADING=1 before
/// and READY=1 after. It ends with the group's graceful shutdown.
struct Hangup: Service {
    /// SIGHUP, trapped before any service started.
    let signals: UnixSignalsSequence
    /// What the running configuration is, as the file and the command line made it.
    let running: Settings
    /// The configuration file and the command line it was combined with, when there is one.
    let config: (file: ConfigFile, commandLine: [String])?
    /// The HTTP API, when it is served.
    let api: HTTPAPI?
    /// The table whose namespaces a reload replaces.
    let table: RouteTable
    /// Tells the store the digest of the namespaces now in force.
    let publishDigest: @Sendable (String) -> Void
    let levels: LogLevelSwitch
    let notifier: SystemdNotifier?
    let logger: Logger

    /// The settings a reload may change while routerd runs.
    struct Settings: Sendable, Equatable {
        var logLevel: Logger.Level
        var logFile: String?
        var httpTokens: String?
    }

    func run() async {
        var settings = running
        var file = config?.file
        for await _ in signals.cancelOnGracefulShutdown() {
            notifier?.reloading()
            var status = "serving; reloaded"
            if let config, let current = file {
                if let (next, read) = reloadConfig(current, commandLine: config.commandLine, settings: settings) {
                    (settings, file) = (next, read)
                } else {
                    status = "serving; \(current.path) has problems (see the log): the running configuration stays"
                }
            }
            reopen(settings)
            notifier?.ready(status: status)
        }
    }

    /// Reads the file again and applies it; returns the settings and the file now in force, or
    /// nil when the file has problems (each logged) and nothing changed.
    func reloadConfig(_ current: ConfigFile, commandLine: [String], settings: Settings) -> (Settings, ConfigFile)? {
        let fresh: ConfigFile
        let parsed: Routerd
        let namespaces: NamespacePolicy?
        do {
            fresh = try ConfigFile.read(current.path, keys: Routerd.configKeys)
            namespaces = try Routerd.namespaces(in: fresh)
        } catch {
            for problem in error.problems { logger.error("SIGHUP: \(problem)") }
            logger.error("SIGHUP: \(current.path) has \(error.problems.count) problem\(error.problems.count == 1 ? "" : "s"); the running configuration stays")
            return nil
        }
        do {
            guard let command = try Routerd.parseAsRoot(fresh.arguments(overriddenBy: commandLine) + commandLine) as? Routerd else {
                return nil
            }
            parsed = command
        } catch {
            let message = Routerd.message(for: error)
            logger.error("SIGHUP: \(ConfigProblem(path: fresh.path, line: fresh.line(forFlagIn: message), message: message)); the running configuration stays")
            return nil
        }
        let given = ConfigFile.flagsGiven(in: commandLine)
        var restart: [String] = []
        for key in Routerd.configKeys where key.reload == .restart && !given.contains(key.name) {
            if current[key.name]?.values != fresh[key.name]?.values { restart.append(key.name) }
        }
        if !restart.isEmpty {
            logger.warning("SIGHUP: \(fresh.path) changes \(restart.joined(separator: ", ")), which take effect at the next start; the running values stay until then")
        }
        var next = settings
        next.logLevel = parsed.logLevel.level
        next.logFile = parsed.logFile
        if api != nil {
            next.httpTokens = parsed.httpTokens
        } else if parsed.httpTokens != settings.httpTokens {
            logger.warning("SIGHUP: http-tokens changed, but the HTTP API is not served: it starts with --http at the next start")
        }
        if current["namespaces"]?.node != fresh["namespaces"]?.node {
            table.setNamespaces(namespaces)
            let digest = namespaces?.digest ?? NamespacePolicy.noneDigest
            publishDigest(digest)
            logger.notice("SIGHUP: namespaces in force: \(namespaces.map { $0.namespaces.map(\.name).joined(separator: ", ") } ?? "none")",
                          metadata: ["digest": "\(digest)"])
        }
        if next.logLevel != settings.logLevel {
            levels.level = next.logLevel
            logger.notice("SIGHUP: log level \(next.logLevel)")
        }
        logger.notice("SIGHUP: read \(fresh.path) (\(fresh.entries.count) keys)")
        return (next, fresh)
    }

    /// Opens the log file again and reads the HTTP tokens again, at the paths in force.
    func reopen(_ settings: Settings) {
        if let logFile = settings.logFile {
            do {
                try LogFile.redirectStandardError(to: logFile)
                logger.notice("SIGHUP: log file opened again", metadata: ["log_file": "\(logFile)"])
            } catch {
                logger.error("SIGHUP: \(error); the log goes on where it was")
            }
        }
        if let api, let path = settings.httpTokens {
            do {
                let fresh = try HTTPTokens(path: path)
                api.reload(fresh)
                logger.notice("SIGHUP: read \(fresh.count) HTTP tokens from \(path)")
            } catch {
                logger.error("SIGHUP: \(error); the tokens read before stay in force")
            }
        }
    }
}

/// `--log-file`: standard error itself is pointed at the file, so that every line the log
/// handler (and anything else) writes there lands in it, and a reopen is one `dup2`.
enum LogFile {
    /// Opens `path` for appending (creating it mode 0640) and makes it standard error.
    static func redirectStandardError(to path: String) throws(LogFileError) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw LogFileError("cannot open --log-file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard dup2(fd, STDERR_FILENO) >= 0 else {
            throw LogFileError("cannot write the log to --log-file \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// The log file cannot be used: says which and why.
struct LogFileError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
