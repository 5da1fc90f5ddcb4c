#if canImport(Glibc)
import Glibc
#endif

/// systemd's notify protocol (sd_notify(3)) written directly, without libsystemd: each state
/// change is one datagram of `NAME=value` lines to the Unix socket named by `$NOTIFY_SOCKET` (a
/// path, or an abstract name written with a leading `@`). A unit with `Type=notify` is started
/// once `READY=1` arrives; `RELOADING=1` and `STOPPING=1` tell the manager what the daemon is
/// doing; `WATCHDOG=1` keeps a unit with `WatchdogSec=` from being restarted as hung.
public struct SystemdNotifier: Sendable {
    /// The socket's address as given: a path, or `@name` for the abstract namespace.
    public let socket: String
    /// How often to send `WATCHDOG=1` (half of `$WATCHDOG_USEC`), when the manager watches this
    /// process: `$WATCHDOG_USEC` is set and `$WATCHDOG_PID`, if set, is this process.
    public let watchdogInterval: Duration?

    /// The notifier the environment asks for, or nil when `$NOTIFY_SOCKET` is not set (the
    /// daemon was not started by systemd as `Type=notify`, and says nothing).
    public init?(environment: [String: String]) {
        guard let socket = environment["NOTIFY_SOCKET"], !socket.isEmpty,
              socket.hasPrefix("/") || socket.hasPrefix("@") else { return nil }
        self.socket = socket
        if let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0,
           environment["WATCHDOG_PID"].map({ Int32($0) == getpid() }) ?? true {
            watchdogInterval = .microseconds(Int64(clamping: usec / 2))
        } else {
            watchdogInterval = nil
        }
    }

    /// The notifier of this process's environment.
    public static func fromProcessEnvironment() -> SystemdNotifier? {
        var environment: [String: String] = [:]
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        return SystemdNotifier(environment: environment)
    }

    /// `READY=1`, with a status line for `systemctl status`.
    public func ready(status: String? = nil) {
        send(["READY=1"] + (status.map { ["STATUS=\($0)"] } ?? []))
    }

    /// `RELOADING=1` with the monotonic time it began (as `Type=notify-reload` requires); send
    /// `ready()` once the reload is done, whether it applied or not.
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let usec = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        send(["RELOADING=1", "MONOTONIC_USEC=\(usec)"])
    }

    /// `STOPPING=1`: the daemon is shutting down.
    public func stopping() {
        send(["STOPPING=1"])
    }

    /// `WATCHDOG=1`: the daemon is alive.
    public func watchdog() {
        send(["WATCHDOG=1"])
    }

    /// Sends one datagram of `lines`; a manager that is gone is not an error of the daemon's.
    /// Returns whether the datagram was sent.
    @discardableResult
    public func send(_ lines: [String]) -> Bool {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socket.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        if abstract { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.enumerated() { raw[i] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (abstract ? 0 : 1))
        let message = Array(lines.joined(separator: "\n").utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), address, length) }
            }
        }
        return sent == message.count
    }
}
