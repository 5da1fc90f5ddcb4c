#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `sockaddr_un` for a socket path, for the plain POSIX calls that clients (and the daemon's
/// liveness probe) make without an event loop.
public struct UnixSocketAddress {
    /// The longest path a Unix socket address holds, in bytes.
    public static let maximumPathLength = 107

    private var storage = sockaddr_un()

    /// Nil when `path` is longer than a `sockaddr_un` holds.
    public init?(path: String) {
        let bytes = Array(path.utf8)
        guard bytes.count <= Self.maximumPathLength else { return nil }
        storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
    }

    /// Calls `body` with the address as `connect` and `bind` take it.
    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        var copy = storage
        return try withUnsafePointer(to: &copy) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                try body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    /// Opens a stream socket connected to `path`; returns the descriptor, or -1 with `errno` set.
    public static func connect(_ path: String) -> Int32 {
        guard let address = UnixSocketAddress(path: path) else {
            errno = ENAMETOOLONG
            return -1
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        let result = address.withSockaddr { sockaddr, length in
            #if canImport(Glibc)
            Glibc.connect(fd, sockaddr, length)
            #else
            Darwin.connect(fd, sockaddr, length)
            #endif
        }
        if result != 0 {
            let saved = errno
            close(fd)
            errno = saved
            return -1
        }
        return fd
    }
}
