#if canImport(Glibc)
import Glibc
#endif
import DomainRouter
import Synchronization

/// Response-rate limiting for UDP (after BIND's RRL): a client network (an IPv4 /24, an IPv6
/// /56) gets at most `rate` answers a second, with a burst of as many. Past it, every second
/// answer "slips" out truncated — empty, with TC set, so a real resolver asks again over TCP,
/// which a forged source cannot — and the others are dropped, so routerd cannot be made to
/// send a flood to a spoofed address. TCP is never limited.
package final class DNSRateLimiter: Sendable {
    /// What to do with one answer.
    package enum Decision: Sendable, Equatable {
        case send
        case slip
        case drop
    }

    struct Bucket {
        var tokens: Double
        var last: UInt64
        var over: UInt64
    }

    let rate: Double
    /// The most client networks tracked; full buckets are forgotten first when it is reached.
    static let trackedLimit = 100_000
    private let buckets = Mutex<[[UInt8]: Bucket]>([:])
    private let now: @Sendable () -> UInt64

    /// `now`: nanoseconds on a monotonic clock.
    package init(rate: Int, now: @escaping @Sendable () -> UInt64 = { DNSRateLimiter.monotonic() }) {
        self.rate = Double(max(1, rate))
        self.now = now
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    package static func monotonic() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// Whether an answer to `address` goes out.
    package func admit(_ address: IPAddress) -> Decision {
        let network = address.bytes.count == 4 ? Array(address.bytes.prefix(3)) : Array(address.bytes.prefix(7))
        let t = now()
        let rate = self.rate
        return buckets.withLock { buckets -> Decision in
            var bucket = buckets[network] ?? Bucket(tokens: rate, last: t, over: 0)
            bucket.tokens = min(rate, bucket.tokens + Double(t &- bucket.last) / 1e9 * rate)
            bucket.last = t
            let decision: Decision
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                decision = .send
            } else {
                bucket.over &+= 1
                decision = bucket.over % 2 == 1 ? .slip : .drop
            }
            if buckets.count >= Self.trackedLimit, buckets[network] == nil {
                // Forget the networks that are within their rate (their buckets are full).
                buckets = buckets.filter { $0.value.tokens + Double(t &- $0.value.last) / 1e9 * rate < rate }
            }
            buckets[network] = bucket
            return decision
        }
    }
}
