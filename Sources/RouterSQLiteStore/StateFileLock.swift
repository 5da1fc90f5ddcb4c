#if canImport(Glibc)
import Glibc
#endif

/// The state file's lock: `flock` on the file itself, held for the life of the process, so that
/// whatever path names the file — the path given, a symbolic link to it, a hard link — a second
/// routerd finds it held and refuses to start. The kernel lets go when the process ends, however
/// it ends. (`flock` locks are apart from the POSIX byte-range locks SQLite takes on the same
/// file; neither disturbs the other.)
///
/// The holder writes its pid into `REALPATH.lock` beside the file, for the refusal to name it.
final class StateFileLock: Sendable {
    private let fd: Int32
    /// The pid file: the file's resolved path with `.lock` appended.
    let path: String

    /// Takes the lock on `database` (which must exist), or throws saying who holds it.
    init(for database: String) throws(StateFileError) {
        fd = open(database, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw StateFileError("cannot open the state file \(database): \(String(cString: strerror(errno)))")
        }
        path = Self.resolved(database) + ".lock"
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var holder: String?
            let pidFD = open(path, O_RDONLY | O_CLOEXEC)
            if pidFD >= 0 {
                var buffer = [UInt8](repeating: 0, count: 32)
                let n = pread(pidFD, &buffer, buffer.count, 0)
                if n > 0 { holder = String(decoding: buffer[..<n], as: UTF8.self).split(separator: "\n").first.map(String.init) }
                close(pidFD)
            }
            close(fd)
            throw StateFileError("the state file \(database) is in use by another routerd" +
                                 (holder.map { " (pid \($0))" } ?? "") + "; stop it first, or give this one another --db")
        }
        let pidFD = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if pidFD >= 0 {
            let pid = "\(getpid())\n"
            _ = pid.withCString { write(pidFD, $0, strlen($0)) }
            close(pidFD)
        }
    }

    deinit {
        close(fd)
    }

    /// `path` with its symbolic links resolved, or `path` itself when that fails.
    static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }
}

/// The state file cannot be used: says which and what to do.
package struct StateFileError: Error, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}
