/// The protocol's times: RFC 3339 in UTC with milliseconds, as the daemon writes them.
public enum WireTime {
    /// `2026-11-26T19:30:00.123Z` (the daemon's form) to milliseconds since the epoch.
    public static func milliseconds(rfc3339 text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A, b.last == 0x5A else { return nil }
        func number(_ r: Range<Int>) -> Int64? {
            var n: Int64 = 0
            for i in r { guard (0x30...0x39).contains(b[i]) else { return nil }; n = n * 10 + Int64(b[i] - 0x30) }
            return n
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10),
              let hh = number(11..<13), let mm = number(14..<16), let ss = number(17..<19) else { return nil }
        var ms: Int64 = 0
        if b[19] == 0x2E {
            var scale: Int64 = 100
            for i in 20..<(b.count - 1) {
                guard (0x30...0x39).contains(b[i]) else { return nil }
                ms += Int64(b[i] - 0x30) * scale
                scale /= 10
            }
        }
        // Days from the civil date (Howard Hinnant's algorithm).
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return ((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000 + ms
    }

    /// Milliseconds since the epoch as `2026-11-26T19:30:00Z` (whole seconds; what a client
    /// sends as a time such as `history`'s `since`).
    public static func rfc3339(milliseconds ms: Int64) -> String {
        var seconds = ms / 1000
        if ms % 1000 < 0 { seconds -= 1 }
        var days = seconds / 86_400
        var secs = seconds % 86_400
        if secs < 0 { secs += 86_400; days -= 1 }
        // Civil date from days since the epoch (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60))Z"
    }
}
