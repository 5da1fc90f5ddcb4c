#if canImport(Glibc)
import Glibc
#endif

/// `PATH.lock` beside the state file, held with `flock` for the life of the process: a second
/// routerd on the same file finds it held and refuses to start, naming the holder's pid, which
/// the holder writes into it. The kernel lets go when the process ends, however it ends.
final class StateFileLock: Sendable {
    private let fd: Int32
    let path: String

    /// Takes the lock, or throws saying who holds it.
    init(for database: String) throws(StateFileError) {
        path = database + ".lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StateFileError("cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            let holder = n > 0 ? String(decoding: buffer[..<n], as: UTF8.self).split(separator: "\n").first.map(String.init) : nil
            close(fd)
            throw StateFileError("the state file \(database) is in use by another routerd" +
                                 (holder.map { " (pid \($0))" } ?? "") + "; stop it first, or give this one another --db")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        close(fd)
    }
}

/// The state file cannot be used: says which and what to do.
package struct StateFileError: Error, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}
