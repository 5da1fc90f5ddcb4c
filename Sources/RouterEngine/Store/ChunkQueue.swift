import DequeModule
import Dispatch
import Synchronization

/// Chunks of values handed from a producer to a thread that takes them one at a time until the
/// end: a load reading (a state file's rows, a Redis scan's pages) on one side while a thread
/// stores what was read in the table on the other (`RouteTable.load(revision:history:reason:chunks:)`).
///
/// With a `depth`, `put` waits while that many chunks are not taken yet: a producer thread that
/// may block, and would otherwise read the whole table ahead of the taker. Without one, `put`
/// never waits: a producer on an event loop, which must not block (and holds no more than the
/// load would hold anyway). Either side can end it: the producer with `finish` (a failure
/// reaching the taker at once), the taker with `abandon` (which `put` then reports).
package final class ChunkQueue<Value: Sendable>: Sendable {
    private struct Queue {
        var chunks: Deque<[Value]> = []
        var finished = false
        var failure: (any Error)?
        var abandoned = false
    }

    private let queue = Mutex(Queue())
    /// One signal a chunk waiting, and one for the end.
    private let available = DispatchSemaphore(value: 0)
    /// Room for more chunks (nil: no bound).
    private let room: DispatchSemaphore?

    /// A queue holding up to `depth` chunks not taken yet (nil: any number).
    package init(depth: Int? = nil) {
        // Made at zero and raised: libdispatch stops the process when a semaphore is freed
        // below the value it was made with, as `room` is when a load ends with chunks untaken.
        room = depth.map { depth in
            let room = DispatchSemaphore(value: 0)
            for _ in 0..<depth { room.signal() }
            return room
        }
    }

    /// Hands `chunk` over, first waiting for room when the queue has a depth; false once the
    /// taker gave up (`abandon()`): there is no point reading on.
    @discardableResult
    package func put(_ chunk: [Value]) -> Bool {
        guard !chunk.isEmpty else { return !queue.withLock { $0.abandoned } }
        room?.wait()
        let taken = queue.withLock { q -> Bool in
            guard !q.abandoned else { return false }
            q.chunks.append(chunk)
            return true
        }
        if taken { available.signal() } else { room?.signal() }
        return taken
    }

    /// No more chunks: `next()` answers nil once the waiting ones are taken, or, with `failure`,
    /// throws it at once and each time it is asked (the chunks waiting are dropped: the load is
    /// abandoned).
    package func finish(failure: (any Error)? = nil) {
        queue.withLock { q in
            q.finished = true
            q.failure = failure
            if failure != nil { q.chunks = [] }
        }
        available.signal()
    }

    /// The taker stops (it failed): the chunks waiting are dropped, a producer waiting for room
    /// goes on, and `put` says false from now on.
    package func abandon() {
        queue.withLock { q in
            q.abandoned = true
            q.chunks = []
        }
        room?.signal()
    }

    /// The next chunk, waiting for it; nil after `finish()` and the last chunk, then again each
    /// time it is asked.
    package func next() throws -> [Value]? {
        while true {
            available.wait()
            let taken: [Value]??
            do {
                taken = try queue.withLock { q throws -> [Value]?? in
                    if let failure = q.failure { throw failure }
                    if let chunk = q.chunks.popFirst() { return .some(chunk) }
                    return q.finished ? .some(nil) : nil
                }
            } catch {
                available.signal() // and again for the next one to ask
                throw error
            }
            guard let taken else { continue }
            if taken != nil { room?.signal() } else { available.signal() }
            return taken
        }
    }
}
