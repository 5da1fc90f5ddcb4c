#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RouterEngine
import RouterProtocol

/// The socket file's life: refuse a path another daemon answers on, clear a stale one, create
/// the directory, set mode and group, remove it on exit. NIO's `cleanupExistingSocketFile`
/// would unlink a live daemon's socket too, so the probe is ours.
enum SocketFile {
    static let maximumPathLength = 107

    /// Makes `path` ready to bind: its directory exists and nothing live is there.
    static func prepare(_ path: String) throws(ServerError) {
        guard path.utf8.count <= maximumPathLength else { throw .socketPathTooLong(path) }
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !directory.isEmpty { try makeDirectories(directory) }
        var info = stat()
        guard lstat(path, &info) == 0 else { return } // nothing there
        guard (info.st_mode & S_IFMT) == S_IFSOCK else { throw .socketPathInUse(path) }
        if answers(path) { throw .alreadyRunning(path) }
        unlink(path) // stale: its daemon is gone
    }

    static func makeDirectories(_ directory: String) throws(ServerError) {
        var built = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/") {
            built += "/" + part
            var info = stat()
            if stat(built, &info) == 0 { continue }
            if mkdir(built, 0o755) != 0 && errno != EEXIST {
                throw .cannotCreateDirectory(built, String(cString: strerror(errno)))
            }
        }
    }

    /// Whether something accepts connections on `path`.
    static func answers(_ path: String) -> Bool {
        let fd = UnixSocketAddress.connect(path)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    /// Sets the socket file's mode and group after binding.
    static func finish(_ path: String, mode: UInt32, group: String?) throws(ServerError) {
        if let group {
            guard let gid = Principals.groupID(group) else { throw .unknownGroup(group) }
            if chown(path, uid_t.max, gid) != 0 {
                throw .cannotBind(path, "cannot give the socket to group \(group): \(String(cString: strerror(errno)))")
            }
        }
        if chmod(path, mode_t(mode)) != 0 {
            throw .cannotBind(path, "cannot set the socket's mode: \(String(cString: strerror(errno)))")
        }
    }

    /// The inode of the socket file, to remove only our own on exit.
    static func inode(_ path: String) -> UInt64? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }

    static func remove(_ path: String, inode: UInt64?) {
        guard let inode, SocketFile.inode(path) == inode else { return }
        unlink(path)
    }

    /// Runs `body` with the process umask set so that a new socket gets exactly `mode`,
    /// closing the window in which it would exist with the default permissions.
    static func withUmask<R>(for mode: UInt32, _ body: () throws -> R) rethrows -> R {
        let previous = umask(mode_t(~mode & 0o777))
        defer { umask(previous) }
        return try body()
    }
}
