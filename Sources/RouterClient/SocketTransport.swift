#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RouterProtocol

// The transport has methods named like these calls; these spell out the C functions.
#if canImport(Glibc)
private func systemClose(_ fd: Int32) { _ = Glibc.close(fd) }
private func systemSend(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int { Glibc.send(fd, p, n, Int32(MSG_NOSIGNAL)) }
private func systemRecv(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int { Glibc.recv(fd, p, n, 0) }
#else
private func systemClose(_ fd: Int32) { _ = Darwin.close(fd) }
private func systemSend(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int { Darwin.send(fd, p, n, 0) }
private func systemRecv(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int { Darwin.recv(fd, p, n, 0) }
#endif

/// routerd's Unix socket: protocol lines as they are, over a blocking socket and `poll`.
public final class SocketTransport: RouterTransport {
    /// The socket path.
    public let path: String
    public var address: String { path }
    public var greetsFirst: Bool { true }

    private var fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0

    /// Why a connect to `path` was refused, by what is there: a directory or a regular file is
    /// named as such; a socket nothing listens on is a stale one.
    static func refusedReason(_ path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return "connection refused" }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return "it is a directory, not a socket (pass the socket file inside it, e.g. \(path)/routerd.sock)"
        case S_IFREG: return "it is a regular file, not a socket"
        case S_IFSOCK: return "connection refused: nothing listens on this socket file (a stale one from a routerd that stopped); start routerd again"
        default: return "it is not a socket"
        }
    }

    /// Connects to the socket at `path`.
    public init(path: String) throws(ClientError) {
        self.path = path
        fd = UnixSocketAddress.connect(path)
        if fd < 0 {
            let code = errno
            switch code {
            case EACCES, EPERM: throw .permissionDenied(path: path)
            case ENOENT: throw .unreachable(path: path, reason: "no such socket; is routerd running? (start it with `routerd`, or pass --socket / set ROUTER_SOCKET)")
            case ECONNREFUSED: throw .unreachable(path: path, reason: Self.refusedReason(path))
            case ENAMETOOLONG: throw .unreachable(path: path, reason: "the path is longer than \(UnixSocketAddress.maximumPathLength) bytes")
            default: throw .unreachable(path: path, reason: String(cString: strerror(code)) + "; is routerd running?")
            }
        }
    }

    deinit {
        if fd >= 0 { systemClose(fd) }
    }

    public func close() {
        if fd >= 0 { systemClose(fd) }
        fd = -1
    }

    public func write(_ bytes: [UInt8]) throws(ClientError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { systemSend(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .connectionClosed
            }
            offset += n
        }
    }

    public var isAlive: Bool {
        guard fd >= 0 else { return false }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 0) > 0 else { return true }
        if p.revents & Int16(POLLHUP | POLLERR) != 0 { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) != 0
    }

    public var hasBufferedLine: Bool {
        buffer[start...].contains(0x0A)
    }

    public func readLine(until deadline: ContinuousClock.Instant?, timeout: Duration?,
                         isInterrupted: () -> Bool) throws(ClientError) -> String {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                var end = newline
                if end > start && buffer[end - 1] == 0x0D { end -= 1 }
                let text = String(decoding: buffer[start..<end], as: UTF8.self)
                start = newline + 1
                if start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
                return text
            }
            if start > 65536 { buffer.removeFirst(start); start = 0 }
            try waitReadable(until: deadline, timeout: timeout, isInterrupted: isInterrupted)
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { systemRecv(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .connectionClosed
            }
            if n == 0 { throw .connectionClosed }
            buffer += chunk[..<n]
        }
    }

    private func waitReadable(until deadline: ContinuousClock.Instant?, timeout: Duration?,
                              isInterrupted: () -> Bool) throws(ClientError) {
        while true {
            if isInterrupted() { throw .interrupted }
            var wait: Int32 = 250
            if let deadline {
                let left = deadline - ContinuousClock.now
                if left <= .zero { throw .timedOut(after: timeout ?? .zero) }
                let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1
                wait = Int32(min(Int64(wait), ms))
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, wait)
            if r > 0 { return }
            if r < 0 && errno != EINTR { throw .connectionClosed }
        }
    }
}
