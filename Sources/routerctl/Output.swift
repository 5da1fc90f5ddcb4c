#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RouterProtocol

/// Writes to stdout and stderr, with colour only where it belongs (a terminal, no NO_COLOR,
/// no --no-color).
struct Terminal {
    var colorOut: Bool
    var colorErr: Bool

    init(noColor: Bool) {
        let allowed = !noColor && getenv("NO_COLOR") == nil
        colorOut = allowed && isatty(1) == 1
        colorErr = allowed && isatty(2) == 1
    }

    func out(_ line: String) {
        print(line)
    }

    func err(_ line: String) {
        Terminal.write(line + "\n", to: 2)
    }

    func flush() { fflush(nil) }

    /// Writes straight to a descriptor (stdout is flushed first, so that lines keep their order).
    static func write(_ text: String, to fd: Int32) {
        fflush(nil)
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            #if canImport(Glibc)
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            #else
            let n = bytes.withUnsafeBytes { Darwin.write(fd, $0.baseAddress, $0.count) }
            #endif
            if n <= 0 { if errno == EINTR { continue } else { return } }
            bytes = bytes.dropFirst(n)
        }
    }

    enum Style: String {
        case bold = "1", dim = "2", red = "31", green = "32", yellow = "33", blue = "34", cyan = "36"
    }

    func paint(_ text: String, _ style: Style, stderr: Bool = false) -> String {
        (stderr ? colorErr : colorOut) ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }
}

/// An aligned table: column widths from the rows given (for streamed output, from the first
/// page; later wider values push their row out rather than holding everything in memory).
struct TextTable {
    var headers: [String]
    var widths: [Int]

    init(headers: [String]) {
        self.headers = headers
        widths = headers.map(\.count)
    }

    mutating func fit(_ rows: [[String]]) {
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
    }

    func line(_ cells: [String]) -> String {
        var out = ""
        for (i, cell) in cells.enumerated() {
            if i == cells.count - 1 {
                out += cell
            } else {
                out += cell + String(repeating: " ", count: max(0, widths[i] - cell.count) + 2)
            }
        }
        return out
    }

    func header(_ terminal: Terminal) -> String {
        terminal.paint(line(headers), .bold)
    }
}

/// Route JSON (the protocol's route object) to table cells.
enum RouteText {
    static let headers = ["KEY", "TUNNEL", "TARGET", "OWNER", "EXPIRES"]
    static let wideHeaders = headers + ["KIND", "SESSION", "REVISION", "LABELS", "ACCESS"]

    static func headers(wide: Bool) -> [String] { wide ? wideHeaders : headers }

    static func cells(_ route: JSONValue, wide: Bool, now: Int64 = WallClock.nowMilliseconds) -> [String] {
        var cells = [
            route["key"]?.stringValue ?? "?",
            route["tunnel"]?.stringValue ?? "-",
            route["target"]?.stringValue ?? "-",
            route["owner"]?.stringValue ?? "-",
            expires(route["expires_at"]?.stringValue, session: route["session"].map { $0 != .null } ?? false, now: now),
        ]
        if wide {
            let labels = (route["labels"].flatMap { value -> [(String, JSONValue)]? in
                if case .object(let members) = value { return members } else { return nil }
            } ?? []).map { "\($0.0)=\($0.1.stringValue ?? "")" }.joined(separator: ",")
            cells += [
                route["kind"]?.stringValue ?? "?",
                route["session"].flatMap { $0 == .null ? nil : "yes" } ?? "-",
                "\(route["create_revision"]?.integerValue ?? 0)/\(route["mod_revision"]?.integerValue ?? 0)",
                labels.isEmpty ? "-" : labels,
                access(route),
            ]
        }
        return cells
    }

    /// `allow 10.0.0.0/8 deny 10.1.0.0/16`, or `-` for a route anyone may reach.
    static func access(_ route: JSONValue) -> String {
        var parts: [String] = []
        for name in ["allow", "deny"] {
            guard case .array(let blocks)? = route[name], !blocks.isEmpty else { continue }
            parts.append(name + " " + blocks.compactMap(\.stringValue).joined(separator: ","))
        }
        return parts.isEmpty ? "-" : parts.joined(separator: " ")
    }

    /// `never`, `in 4m59s`, or `expired`; `session` for a route that lives as long as its
    /// session (and `in 4m59s, session` when it also has a TTL).
    static func expires(_ text: String?, session: Bool = false, now: Int64) -> String {
        guard let text else { return session ? "session" : "never" }
        guard let at = WireTime.milliseconds(rfc3339: text) else { return text }
        let left = at - now
        if left <= 0 { return "expired" }
        let rounded = left < 1000 ? left : (left + 999) / 1000 * 1000
        return "in " + DurationText.format(.milliseconds(rounded)) + (session ? ", session" : "")
    }
}

/// The wall clock, in the protocol's milliseconds since the epoch.
enum WallClock {
    static var nowMilliseconds: Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
