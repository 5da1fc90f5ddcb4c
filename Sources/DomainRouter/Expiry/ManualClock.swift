import Synchronization

/// A clock that moves only when told to, for tests of TTLs, sweeps and session grace.
public final class ManualClock: RouteClock {
    private let current: Mutex<Timestamp>

    /// A clock standing at `start` until moved.
    public init(_ start: Timestamp = Timestamp(millisecondsSinceEpoch: 1_780_000_000_000)) {
        current = Mutex(start)
    }

    /// The clock's current time.
    public func now() -> Timestamp { current.withLock { $0 } }

    /// Moves the clock forward by `duration`.
    public func advance(by duration: Duration) {
        current.withLock { $0 = $0.advanced(by: duration) }
    }
}
