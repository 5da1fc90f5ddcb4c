extension RouteTable {
    /// The events with revision ≥ `revision` (inclusive, like etcd); `compacted` when the
    /// history no longer reaches back that far, `outOfRange` beyond the next revision.
    public func events(from revision: UInt64) throws(RouteError) -> [RouteEvent] {
        try state.read { (s: borrowing TableState) throws(RouteError) -> [RouteEvent] in try s.events(from: revision) }
    }

    /// Subscribes to changes: first the history from `revision` (when given), then a `sync`
    /// event, then live events. The buffer holds `bufferSize` undelivered live events; past
    /// that the subscription ends with `RouteError.overflow`.
    public func subscribe(from revision: UInt64? = nil, filter: EventFilter = EventFilter(),
                          bufferSize: Int? = nil) throws(RouteError) -> RouteSubscription {
        let size = max(1, bufferSize ?? configuration.subscriberBuffer)
        let (id, stream) = try state.write { (s: inout TableState) throws(RouteError) -> (UInt64, AsyncThrowingStream<RouteEvent, any Error>) in
            let replay = try revision.map { (r: UInt64) throws(RouteError) in try s.events(from: r) }?.filter(filter.matches) ?? []
            let (stream, continuation) = AsyncThrowingStream.makeStream(
                of: RouteEvent.self, throwing: (any Error).self,
                bufferingPolicy: .bufferingOldest(size + replay.count + 1))
            let subscriber = Subscriber(filter: filter, sink: .stream(continuation, capacity: size))
            continuation.onTermination = { [weak subscriber] _ in subscriber?.ended.store(true, ordering: .relaxed) }
            for event in replay { continuation.yield(event) }
            continuation.yield(RouteEvent(kind: .sync, revision: s.revision, key: "", route: nil))
            let id = s.nextSubscriber
            s.nextSubscriber += 1
            s.subscribers[id] = subscriber
            return (id, stream)
        }
        return RouteSubscription(stream: stream) { [weak self] in self?.unsubscribe(id) }
    }

    /// Subscribes with a callback, for servers that deliver on their own threads: `deliver`
    /// runs under the table's lock, in revision order, for the replayed history, the `sync`
    /// event and then every live change, and must return quickly. Returning false ends the
    /// subscription (a consumer that fell too far behind); `cancel()` on the handle ends it too.
    public func subscribe(from revision: UInt64? = nil, filter: EventFilter = EventFilter(),
                          deliver: @escaping @Sendable (RouteEvent) -> Bool) throws(RouteError) -> SubscriptionHandle {
        let id = try state.write { (s: inout TableState) throws(RouteError) -> UInt64? in
            let replay = try revision.map { (r: UInt64) throws(RouteError) in try s.events(from: r) }?.filter(filter.matches) ?? []
            for event in replay where !deliver(event) { return nil }
            guard deliver(RouteEvent(kind: .sync, revision: s.revision, key: "", route: nil)) else { return nil }
            let id = s.nextSubscriber
            s.nextSubscriber += 1
            s.subscribers[id] = Subscriber(filter: filter, sink: .callback(deliver))
            return id
        }
        return SubscriptionHandle { [weak self] in
            if let id { self?.unsubscribe(id) }
        }
    }

    func unsubscribe(_ id: UInt64) {
        let subscriber = state.write { $0.subscribers.removeValue(forKey: id) }
        subscriber?.finish()
    }
}
