#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Durations as operators write them: `500ms`, `5s`, `2m`, `1h30m`, `1d`, or bare seconds.
package enum DurationText {
    /// Parses `text`; nil when it is not a duration.
    package static func parse(_ text: String) -> Duration? {
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 {
            return .milliseconds(Int64((seconds * 1000).rounded()))
        }
        var total: Int64 = 0
        var number = ""
        var rest = Substring(text)
        var sawUnit = false
        while let c = rest.first {
            if c.isNumber || c == "." {
                number.append(c)
                rest = rest.dropFirst()
                continue
            }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            let unit: Int64
            if rest.hasPrefix("ms") { unit = 1; rest = rest.dropFirst(2) }
            else if c == "s" { unit = 1000; rest = rest.dropFirst() }
            else if c == "m" { unit = 60_000; rest = rest.dropFirst() }
            else if c == "h" { unit = 3_600_000; rest = rest.dropFirst() }
            else if c == "d" { unit = 86_400_000; rest = rest.dropFirst() }
            else { return nil }
            total += Int64((value * Double(unit)).rounded())
            number = ""
            sawUnit = true
        }
        guard number.isEmpty, sawUnit else { return nil }
        return .milliseconds(total)
    }

    /// `d` as the shortest of these forms (`1h30m`, `5s`, `500ms`).
    package static func format(_ d: Duration) -> String {
        var ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        if ms == 0 { return "0s" }
        var out = ""
        for (unit, name) in [(Int64(86_400_000), "d"), (3_600_000, "h"), (60_000, "m"), (1000, "s"), (1, "ms")] where ms >= unit {
            out += "\(ms / unit)\(name)"
            ms %= unit
        }
        return out
    }
}

/// A listening address as operators write it: `PORT`, `HOST:PORT`, or `[V6]:PORT`.
package enum ListenAddressText {
    /// The host (`defaultHost` when only a port is given) and port (1–65535, or 0 for one the
    /// kernel picks when `allowingZero`); nil when `text` is not one of those forms.
    package static func parse(_ text: String, defaultHost: String, allowingZero: Bool = false) -> (host: String, port: Int)? {
        var host = defaultHost
        var portText = Substring(text)
        if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        }
        guard !host.isEmpty, let port = Int(portText), ((allowingZero ? 0 : 1)...65535).contains(port) else { return nil }
        return (host, port)
    }
}

/// Where `routerd` listens and `routerctl` connects unless told otherwise: `$ROUTER_SOCKET`,
/// else `/run/routerd/routerd.sock` for root, else `$XDG_RUNTIME_DIR/routerd.sock`, else
/// `/tmp/routerd-UID/routerd.sock`.
public enum DefaultSocket {
    /// The socket path, by the rules above.
    public static var path: String {
        if let explicit = environment("ROUTER_SOCKET"), !explicit.isEmpty { return explicit }
        if geteuid() == 0 { return "/run/routerd/routerd.sock" }
        if let runtime = environment("XDG_RUNTIME_DIR"), !runtime.isEmpty { return runtime + "/routerd.sock" }
        return "/tmp/routerd-\(geteuid())/routerd.sock"
    }

    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
