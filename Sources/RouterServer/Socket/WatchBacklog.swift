import NIOCore

/// What a connection's watches have written that its socket has not taken yet. Like Redis's
/// client output buffer limits: a backlog above `--watcher-buffer` events for two seconds,
/// sixteen times above it at any moment, or above `--watcher-buffer-bytes` of buffers marks a
/// peer that does not read; its watches are sent `slow_consumer` and the connection is closed,
/// and it never silently misses an event. Bursts that a reading client drains in time (a
/// tunnel of 10,000 routes deleted at once) pass. Lives on the connection's event loop.
struct WatchBacklog {
    /// Events handed to the channel and not yet written to the socket.
    var events = 0
    /// The capacity of the buffers holding them: the memory the peer holds.
    var bytes = 0
    /// Since when the events have been above the count limit; nil while at or below it.
    var aboveSince: NIODeadline?
    /// The check that cuts the peer once it has stayed above for the whole patience.
    var check: Scheduled<Void>?
    /// Events in the outbound buffer not yet handed to the channel.
    var unsentEvents = 0

    /// How long a backlog may stay above the count limit.
    static let patience: TimeAmount = .seconds(2)
}
