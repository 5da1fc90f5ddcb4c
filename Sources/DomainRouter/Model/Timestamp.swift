#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A wall-clock instant with millisecond precision, as routes record and show it.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var millisecondsSinceEpoch: Int64

    /// A time from milliseconds since 1970-01-01T00:00:00Z.
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// Orders values for sorting.
    public static func < (a: Timestamp, b: Timestamp) -> Bool {
        a.millisecondsSinceEpoch < b.millisecondsSinceEpoch
    }

    /// This instant moved by `duration` (rounded down to milliseconds).
    public func advanced(by duration: Duration) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: millisecondsSinceEpoch &+ duration.milliseconds)
    }

    /// RFC 3339 in UTC, e.g. `2026-11-26T17:00:00Z`, with `.mmm` when the milliseconds are not zero.
    public var description: String { rfc3339 }

    /// RFC 3339 in UTC, with milliseconds when there are any (`2026-11-26T12:00:00Z`).
    public var rfc3339: String {
        String(unsafeUninitializedCapacity: Timestamp.maximumRFC3339Length) { out in
            writeRFC3339(to: out.baseAddress!)
        }
    }

    /// The longest `rfc3339` text: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static let maximumRFC3339Length = 24

    /// Writes `rfc3339` to `out` (room for `maximumRFC3339Length` bytes) and returns its length:
    /// for replies written straight into a socket buffer, without a String per timestamp.
    public func writeRFC3339(to out: UnsafeMutablePointer<UInt8>) -> Int {
        let ms = millisecondsSinceEpoch
        var seconds = ms / 1000
        var millis = ms % 1000
        if millis < 0 { millis += 1000; seconds -= 1 }
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
        var o = 0
        func digits(_ value: Int64, _ width: Int) {
            var v = value
            for i in stride(from: width - 1, through: 0, by: -1) {
                out[o + i] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
                v /= 10
            }
            o += width
        }
        func char(_ c: UInt8) {
            out[o] = c
            o += 1
        }
        digits(year, 4); char(0x2D); digits(month, 2); char(0x2D); digits(day, 2); char(0x54)
        digits(secs / 3600, 2); char(0x3A); digits(secs / 60 % 60, 2); char(0x3A); digits(secs % 60, 2)
        if millis != 0 { char(0x2E); digits(millis, 3) }
        char(0x5A)
        return o
    }
}

extension Duration {
    /// This duration in whole milliseconds, rounded toward zero.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1000 &+ attoseconds / 1_000_000_000_000_000
    }
}

/// Where the table gets the time from. Inject a `ManualClock` in tests so they never sleep.
public protocol RouteClock: Sendable {
    func now() -> Timestamp
}

/// The system's real-time clock.
public struct SystemClock: RouteClock {
    /// The system clock.
    public init() {}

    /// The current wall-clock time.
    public func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(millisecondsSinceEpoch: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }
}
