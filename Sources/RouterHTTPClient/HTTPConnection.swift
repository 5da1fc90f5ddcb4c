#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RouterClient

/// One TCP connection to the API, with TLS for `https://`: blocking calls and `poll`, as the
/// socket client, so that a one-shot routerctl starts no threads and no event loop.
final class HTTPConnection {
    private var fd: Int32
    private let tls: TLSSession?

    /// Connects to `host`:`port` within `timeout` (each address the name resolves to in turn),
    /// and shakes hands with TLS when `tls` says so. Throws the reason for a person.
    init(host: String, port: Int, tls: Bool, caFile: String?, timeout: Duration) throws(ConfigurationError) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let resolved = getaddrinfo(bare, String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            throw ConfigurationError("cannot resolve \(bare)")
        }
        defer { freeaddrinfo(list) }
        var reason = "no address"
        var connected: Int32 = -1
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry, connected < 0 {
            entry = info.pointee.ai_next
            let s = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard s >= 0 else { continue }
            if let failure = Self.connect(s, info.pointee.ai_addr, info.pointee.ai_addrlen, timeout: timeout) {
                reason = failure
                close(s)
                continue
            }
            connected = s
        }
        guard connected >= 0 else { throw ConfigurationError(reason) }
        fd = connected
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if tls {
            // The handshake blocks; bound it by the timeout.
            var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            let previous = signal(SIGPIPE, SIG_IGN) // as in write(_:)
            defer { signal(SIGPIPE, previous) }
            do {
                self.tls = try TLSSession(fd: fd, host: bare, caFile: caFile)
            } catch {
                close(fd)
                throw error
            }
        } else {
            self.tls = nil
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    func shutDown() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    /// Connects `s` without blocking past `timeout`; nil when connected, else why not.
    private static func connect(_ s: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t, timeout: Duration) -> String? {
        let flags = fcntl(s, F_GETFL)
        _ = fcntl(s, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(s, F_SETFL, flags) }
        if Glibc.connect(s, address, length) == 0 { return nil }
        guard errno == EINPROGRESS else { return String(cString: strerror(errno)).lowercased() }
        var p = pollfd(fd: s, events: Int16(POLLOUT), revents: 0)
        let ms = Int32(min(Int64(Int32.max), timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        guard poll(&p, 1, ms) > 0 else { return "no connection within \(ms) ms" }
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(s, SOL_SOCKET, SO_ERROR, &error, &size)
        return error == 0 ? nil : String(cString: strerror(error)).lowercased()
    }

    /// Writes all of `bytes`; false when the connection failed.
    func write(_ bytes: [UInt8]) -> Bool {
        guard fd >= 0 else { return false }
        return bytes.withUnsafeBytes { raw -> Bool in
            if let tls {
                // OpenSSL writes with write(2): a peer gone raises SIGPIPE, which must not end
                // routerctl here (plain writes pass MSG_NOSIGNAL instead).
                let previous = signal(SIGPIPE, SIG_IGN)
                defer { signal(SIGPIPE, previous) }
                return tls.write(raw)
            }
            var offset = 0
            while offset < raw.count {
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
    }

    /// Waits up to `milliseconds` for bytes and reads what is there: nil when nothing came in
    /// time, an empty array at the connection's end. Throws when the connection failed.
    func read(waiting milliseconds: Int32) throws(ConfigurationError) -> [UInt8]? {
        guard fd >= 0 else { return [] }
        if tls?.pending != true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, milliseconds)
            if r == 0 || (r < 0 && errno == EINTR) { return nil }
            if r < 0 { throw ConfigurationError(String(cString: strerror(errno))) }
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { raw -> Int in
            if let tls { return tls.read(raw.baseAddress!, raw.count) }
            let n = recv(fd, raw.baseAddress, raw.count, 0)
            return n < 0 && (errno == EINTR || errno == EAGAIN) ? -2 : n
        }
        if n == -2 { return nil }
        if n < 0 { throw ConfigurationError("the connection failed: \(String(cString: strerror(errno)))") }
        return Array(buffer[..<n])
    }

    /// Whether the server has closed this idle connection (or sent something unasked).
    var isStale: Bool {
        guard fd >= 0 else { return true }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) != 0
    }
}
