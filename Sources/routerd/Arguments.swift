import ArgumentParser
import DomainRouter
import Logging
import RouterProtocol
import RouterSQLiteStore

// routerd's flag values, typed once as ArgumentParser reads them: a value that does not parse
// is refused there, naming the flag (exit 64), and what runs later holds typed values only.
// Each keeps the text it was given, which is how help shows a default.

/// A duration: `500ms`, `5s`, `2m`, `1h30m`, `30d`, or plain seconds (`0`, `1.5`).
struct DurationArgument: ExpressibleByArgument, CustomStringConvertible, Sendable {
    let duration: Duration
    let description: String

    init?(argument: String) {
        guard let duration = DurationText.parse(argument) else { return nil }
        (self.duration, self.description) = (duration, argument)
    }

    /// A default: `duration`, shown as `text`.
    init(_ duration: Duration, as text: String) {
        (self.duration, self.description) = (duration, text)
    }

    /// Whole milliseconds, for APIs that take them.
    var milliseconds: Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    var defaultValueDescription: String { description }
}

/// A size in bytes, with an optional `k`, `m` or `g` suffix (binary: `32m` is 32 MiB).
struct ByteSize: ExpressibleByArgument, CustomStringConvertible, Sendable {
    let bytes: Int
    let description: String

    init?(argument: String) {
        let text = argument.lowercased()
        let scale: Int
        switch text.last {
        case "k": scale = 1 << 10
        case "m": scale = 1 << 20
        case "g": scale = 1 << 30
        default: scale = 1
        }
        guard let number = Int(scale == 1 ? text : String(text.dropLast())), number >= 1,
              number <= Int.max / scale else { return nil }
        (bytes, description) = (number * scale, argument)
    }

    /// A default: `bytes`, shown as `text`.
    init(_ bytes: Int, as text: String) {
        (self.bytes, self.description) = (bytes, text)
    }

    var defaultValueDescription: String { description }
}

/// A range of TCP ports, `LOW-HIGH` (1–65535, LOW ≤ HIGH).
struct PortRange: ExpressibleByArgument, CustomStringConvertible, Sendable {
    let ports: ClosedRange<UInt16>

    init?(argument: String) {
        let parts = argument.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let low = UInt16(parts[0]), let high = UInt16(parts[1]), low >= 1, low <= high else { return nil }
        ports = low...high
    }

    init(_ ports: ClosedRange<UInt16>) { self.ports = ports }

    var description: String { "\(ports.lowerBound)-\(ports.upperBound)" }
    var defaultValueDescription: String { description }
}

/// A TCP address to listen on: `PORT` (on 127.0.0.1), `HOST:PORT` or `[IPv6]:PORT`; port 0
/// asks the kernel for a free one (the "listening on" line names it).
struct ListenAddress: ExpressibleByArgument, CustomStringConvertible, Sendable {
    let host: String
    let port: Int

    init?(argument: String) {
        guard let (host, port) = ListenAddressText.parse(argument, defaultHost: "127.0.0.1", allowingZero: true) else { return nil }
        (self.host, self.port) = (host, port)
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A file mode in octal (`0660`, `660` or `0o660`), at most 0777.
struct OctalMode: ExpressibleByArgument, CustomStringConvertible, Sendable {
    let mode: UInt32
    let description: String

    init?(argument: String) {
        let digits = argument.hasPrefix("0o") ? String(argument.dropFirst(2)) : argument
        guard let mode = UInt32(digits, radix: 8), mode <= 0o777 else { return nil }
        (self.mode, self.description) = (mode, argument)
    }

    /// A default: `mode`, shown as `text`.
    init(_ mode: UInt32, as text: String) {
        (self.mode, self.description) = (mode, text)
    }

    var defaultValueDescription: String { description }
}

/// How much the log says: swift-log's levels by name.
struct LogLevel: ExpressibleByArgument, CustomStringConvertible, Sendable {
    let level: Logger.Level

    init?(argument: String) {
        guard let level = Logger.Level(rawValue: argument) else { return nil }
        self.level = level
    }

    init(_ level: Logger.Level) { self.level = level }

    var description: String { level.rawValue }
    var defaultValueDescription: String { description }
    static var allValueStrings: [String] { Logger.Level.allCases.map(\.rawValue) }
}

/// `--audit-log`: whether changes are lines in the log.
enum AuditLog: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Every add, update, delete and expire is a line at notice.
    case changes
    /// None is (with --db, the state file's history records them).
    case none
}

/// `--sync`: how far an answered change survives with --db.
enum SyncLevel: String, ExpressibleByArgument, CaseIterable, Sendable {
    case normal
    case full

    var sqlite: SQLiteStore.Sync {
        switch self {
        case .normal: .normal
        case .full: .full
        }
    }
}

/// A DNS peer's address as the flags give it: `IP`, `IP:PORT` or `[IPv6]:PORT` (port 53 when
/// none is given).
enum DNSTarget {
    static func parse(_ text: String) -> (host: String, port: Int)? {
        if IPAddress(text) != nil { return (text, 53) }
        guard let (host, port) = ListenAddressText.parse(text, defaultHost: "", allowingZero: false), IPAddress(host) != nil else { return nil }
        return (host, port)
    }
}
