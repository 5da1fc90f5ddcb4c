#if canImport(Glibc)
import Glibc
#endif
import Logging
import RouterHTTP
import ServiceLifecycle
import UnixSignals

/// What SIGHUP does to a running routerd, as a `Service`: opens `--log-file` again (logrotate
/// moves the file, then signals; the log goes on in a new file at the same path) and reads
/// `--http-tokens` again (a revoked token stops working without a restart). A file that cannot
/// be read or opened keeps what is in force and says why; nothing else is reloaded. It ends
/// with the group's graceful shutdown.
struct Hangup: Service {
    /// SIGHUP, trapped before any service started.
    let signals: UnixSignalsSequence
    let logFile: String?
    /// The HTTP API and its token file, when it is served.
    let api: (HTTPAPI, tokens: String)?
    let logger: Logger

    func run() async {
        for await _ in signals.cancelOnGracefulShutdown() {
            reload()
        }
    }

    func reload() {
        if let logFile {
            do {
                try LogFile.redirectStandardError(to: logFile)
                logger.notice("SIGHUP: log file opened again", metadata: ["log_file": "\(logFile)"])
            } catch {
                logger.error("SIGHUP: \(error); the log goes on where it was")
            }
        }
        if let (api, path) = api {
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
