import Synchronization

/// A live feed of the table's changes: first any replayed history, then a `sync` event, then
/// each change as it happens. Its buffer is bounded; a subscriber that falls that far behind
/// gets `RouteError.overflow` as the end of the sequence, never a silent gap.
public struct RouteSubscription: AsyncSequence, Sendable {
    /// The events the subscription yields.
    public typealias Element = RouteEvent
    /// How the stream ends when the subscriber fell behind or the history is gone.
    public typealias Failure = RouteError

    let stream: AsyncThrowingStream<RouteEvent, any Error>
    let cancelAction: @Sendable () -> Void

    /// Ends the subscription; a pending `next()` returns nil.
    public func cancel() { cancelAction() }

    /// The iterator over the events.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator())
    }

    /// Iterates a subscription's events.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<RouteEvent, any Error>.AsyncIterator

        /// The next event; nil once the subscription is cancelled.
        public mutating func next() async throws(RouteError) -> RouteEvent? {
            do {
                return try await base.next()
            } catch let error as RouteError {
                throw error
            } catch {
                return nil
            }
        }

        /// The next event; nil once the subscription is cancelled.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(RouteError) -> RouteEvent? {
            do {
                return try await base.next(isolation: actor)
            } catch let error as RouteError {
                throw error
            } catch {
                return nil
            }
        }
    }
}

/// A callback subscription's handle: cancel it to stop the callbacks.
public struct SubscriptionHandle: Sendable {
    let cancelAction: @Sendable () -> Void

    /// Stops the callbacks; none runs after this returns.
    public func cancel() { cancelAction() }
}

/// The table's side of one subscription: an async stream, or a callback.
final class Subscriber: Sendable {
    enum Sink: Sendable {
        case stream(AsyncThrowingStream<RouteEvent, any Error>.Continuation, capacity: Int)
        case callback(@Sendable (RouteEvent) -> Bool)
    }

    let filter: EventFilter
    let sink: Sink
    /// Set when the consumer went away, so the table can drop it without taking a lock here.
    let ended = Atomic<Bool>(false)

    init(filter: EventFilter, sink: Sink) {
        self.filter = filter
        self.sink = sink
    }

    /// Delivers `event`; false when the subscriber is gone or has just overflowed.
    func deliver(_ event: RouteEvent) -> Bool {
        if ended.load(ordering: .relaxed) { return false }
        guard filter.matches(event) else { return true }
        switch sink {
        case .callback(let callback):
            return callback(event)
        case .stream(let continuation, let capacity):
            switch continuation.yield(event) {
            case .enqueued:
                return true
            case .dropped:
                continuation.finish(throwing: RouteError.overflow(capacity: capacity))
                return false
            case .terminated:
                return false
            @unknown default:
                return false
            }
        }
    }

    /// Ends a stream subscription normally.
    func finish() {
        if case .stream(let continuation, _) = sink { continuation.finish() }
    }
}
