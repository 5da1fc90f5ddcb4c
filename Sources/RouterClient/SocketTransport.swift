#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RouterProtocol

// The transport has methods named like these calls; these spell out the C functions.
#if canImport(Glibc)
private func systemClose(_ fd: Int32) { _ = Glibc.close(fd) }
private func systemSendNow(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int { Glibc.send(fd, p, n, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
private func systemRecv(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int, _ flags: Int32) -> Int { Glibc.recv(fd, p, n, flags) }
#else
private func systemClose(_ fd: Int32) { _ = Darwin.close(fd) }
private func systemSendNow(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int { Darwin.send(fd, p, n, MSG_DONTWAIT) }
private func systemRecv(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int, _ flags: Int32) -> Int { Darwin.recv(fd, p, n, flags) }
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
    /// Bytes before this index (from `start`) hold no `\n`, unless `lineEnd` names one.
    private var scanned = 0
    private var lineEnd: Int?

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

    /// Sends `bytes` in full. While the socket has no room, replies that arrive are taken into
    /// the read buffer (for `readLine`): a client that pipelines far ahead of its reads never
    /// waits on a daemon that is itself waiting for its replies to be read.
    public func write(_ bytes: [UInt8]) throws(ClientError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { systemSendNow(fd, $0.baseAddress, $0.count) }
            if n >= 0 {
                offset += n
                continue
            }
            switch errno {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                var p = pollfd(fd: fd, events: Int16(POLLOUT | POLLIN), revents: 0)
                if poll(&p, 1, -1) < 0 && errno != EINTR { throw .connectionClosed }
                if p.revents & Int16(POLLIN) != 0, try receiveAvailable() == 0 { throw .connectionClosed }
            default:
                throw .connectionClosed
            }
        }
    }

    /// Appends what the socket holds now to the read buffer; returns the byte count: 0 at the
    /// end of the stream, -1 when nothing is there yet.
    private func receiveAvailable() throws(ClientError) -> Int {
        if start > 65536 {
            buffer.removeFirst(start)
            scanned -= start
            lineEnd = lineEnd.map { $0 - start }
            start = 0
        }
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: 65536))
        let n = buffer.withUnsafeMutableBytes { systemRecv(fd, $0.baseAddress! + old, 65536, Int32(MSG_DONTWAIT)) }
        buffer.removeLast(65536 - max(n, 0))
        if n < 0 {
            if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { return -1 }
            throw .connectionClosed
        }
        return n
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
        bufferedLineEnd() != nil
    }

    /// Where the first buffered line ends (its `\n`), remembered until that line is read so
    /// that asking before each read does not scan the line twice.
    private func bufferedLineEnd() -> Int? {
        if let lineEnd { return lineEnd }
        lineEnd = buffer[scanned...].firstIndex(of: 0x0A)
        scanned = lineEnd ?? buffer.count
        return lineEnd
    }

    public func readLine(timeout: Duration?, isInterrupted: () -> Bool) throws(ClientError) -> String {
        var deadline: ContinuousClock.Instant?
        while true {
            if let newline = bufferedLineEnd() {
                var end = newline
                if end > start && buffer[end - 1] == 0x0D { end -= 1 }
                let text = String(decoding: buffer[start..<end], as: UTF8.self)
                start = newline + 1
                scanned = start
                lineEnd = nil
                if start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0; scanned = 0 }
                return text
            }
            if deadline == nil, let timeout { deadline = ContinuousClock.now + timeout }
            try waitReadable(until: deadline, timeout: timeout, isInterrupted: isInterrupted)
            if try receiveAvailable() == 0 { throw .connectionClosed }
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
