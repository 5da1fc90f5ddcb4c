import DequeModule
import DomainRouter
import RouterProtocol
import Synchronization

/// The events of one HTTP watch on their way from the table (which hands them over under its
/// lock, so `push` only queues) to the response body that writes them.
///
/// The same bounds as a socket watch: a watcher whose backlog — events queued here or being
/// written — stays above `eventLimit` for `patience`, passes 16 times it (at least 131,072), or
/// passes `byteLimit` (estimated from each event's route) is cut. A cut drops the queued events
/// at once (their memory is returned whether or not the client ever reads again) and leaves
/// only the `slow_consumer` error for the body to write.
final class WatchFeed: Sendable {
    typealias Item = HTTPAPI.StreamItem

    /// What `push` did.
    enum Pushed: Equatable {
        /// Queued.
        case queued
        /// The watcher fell behind and is cut now.
        case cut
        /// The feed had ended already.
        case ended
    }

    private struct State {
        var items = Deque<Item>()
        /// Events (and their estimated bytes) pushed and not yet written.
        var events = 0
        var bytes = 0
        var aboveSince: ContinuousClock.Instant?
        var ended = false
        var waiter: CheckedContinuation<[Item], Never>?

        /// Queues `item`; when the body waits for items, takes it off with everything queued.
        mutating func append(_ item: Item) -> Wakeup? {
            items.append(item)
            guard let parked = waiter else { return nil }
            waiter = nil
            return Wakeup(waiter: parked, items: Array(items.drain()))
        }
    }

    /// The waiting body and what to wake it with: taken under the lock, resumed outside it.
    private struct Wakeup {
        let waiter: CheckedContinuation<[Item], Never>
        let items: [Item]

        func resume() { waiter.resume(returning: items) }
    }

    private let state = Mutex(State())
    let eventLimit: Int
    let byteLimit: Int
    let patience: Duration

    init(eventLimit: Int, byteLimit: Int, patience: Duration = .seconds(2)) {
        self.eventLimit = eventLimit
        self.byteLimit = byteLimit
        self.patience = patience
    }

    /// Queues an event; cuts the watcher when this one puts it over its bounds.
    func push(_ event: RouteEvent, overflow: ProtocolError) -> Pushed {
        let size = Self.estimatedSize(event)
        let (pushed, wakeup) = state.withLock { s -> (Pushed, Wakeup?) in
            guard !s.ended else { return (.ended, nil) }
            s.events += 1
            s.bytes += size
            var over = s.events > max(eventLimit * 16, 131_072) || s.bytes > byteLimit
            if !over, s.events > eventLimit {
                let now = ContinuousClock.now
                if let since = s.aboveSince { over = now - since >= patience } else { s.aboveSince = now }
            }
            if over {
                s.items.removeAll()
                s.events = 0
                s.bytes = 0
                s.ended = true
                return (.cut, s.append(.end(overflow)))
            }
            return (.queued, s.append(.event(event)))
        }
        wakeup?.resume()
        return pushed
    }

    /// Queues a keep-alive comment (unless the feed ended).
    func heartbeat() {
        let wakeup = state.withLock { s -> Wakeup? in
            guard !s.ended else { return nil }
            return s.append(.heartbeat)
        }
        wakeup?.resume()
    }

    /// Ends the feed with `item` last (store reset, shutdown); nothing is queued after it.
    func end(with item: Item) {
        let wakeup = state.withLock { s -> Wakeup? in
            guard !s.ended else { return nil }
            s.ended = true
            return s.append(item)
        }
        wakeup?.resume()
    }

    /// Everything queued, waiting while nothing is; empty once the feed has ended and every
    /// item was taken.
    func next() async -> [Item] {
        await withCheckedContinuation { (continuation: CheckedContinuation<[Item], Never>) in
            let items = state.withLock { s -> [Item]? in
                if !s.items.isEmpty || s.ended { return Array(s.items.drain()) }
                s.waiter = continuation
                return nil
            }
            if let items { continuation.resume(returning: items) }
        }
    }

    /// `count` events of `bytes` (as estimated) were written to the client.
    func written(events count: Int, bytes: Int) {
        state.withLock { s in
            guard !s.ended else { return }
            s.events = max(0, s.events - count)
            s.bytes = max(0, s.bytes - bytes)
            if s.events <= eventLimit { s.aboveSince = nil }
        }
    }

    /// About how much memory an event holds while it waits: its route's strings and a fixed part.
    static func estimatedSize(_ event: RouteEvent) -> Int {
        guard let route = event.route else { return 128 }
        var size = 256 + route.key.utf8.count + route.tunnel.description.utf8.count + (route.target?.description.utf8.count ?? 0)
        for (name, value) in route.labels { size += name.utf8.count + value.utf8.count + 32 }
        return size
    }
}

extension Deque {
    /// Removes and returns every element.
    fileprivate mutating func drain() -> Deque<Element> {
        defer { self = Deque() }
        return self
    }
}
