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
}
