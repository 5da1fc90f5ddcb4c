import DequeModule
import Dispatch
import Synchronization

/// Pages of stored records from a load's scan (a task on an event loop, which must never
/// block) to the thread that decodes and stores them (which may): unbounded, since the scan
/// holds nothing back that the load would not hold anyway, and each page is freed once stored.
final class RecordQueue: Sendable {
    private struct Queue {
        var pages: Deque<[[UInt8]]> = []
        var finished = false
        var failure: (any Error)?
        var abandoned = false
    }

    private let queue = Mutex(Queue())
    /// One signal a page, and one for the end.
    private let available = DispatchSemaphore(value: 0)

    /// Hands a page over, without waiting; false once the taker gave up (`abandon()`), when
    /// there is no point scanning on.
    @discardableResult
    func put(_ page: [[UInt8]]) -> Bool {
        let taken = queue.withLock { q -> Bool in
            guard !q.abandoned else { return false }
            if !page.isEmpty { q.pages.append(page) }
            return true
        }
        if taken && !page.isEmpty { available.signal() }
        return taken
    }

    /// The taker stops (it failed): pages waiting are dropped, and `put` says so.
    func abandon() {
        queue.withLock { q in
            q.abandoned = true
            q.pages = []
        }
    }

    /// No more pages: `next()` answers nil once the waiting ones are taken, or, with `failure`,
    /// throws it at once (the pages waiting are dropped: the load is abandoned).
    func finish(failure: (any Error)? = nil) {
        queue.withLock { q in
            q.finished = true
            q.failure = failure
            if failure != nil { q.pages = [] }
        }
        available.signal()
    }

    /// The next page, waiting for it; nil after `finish()` and the last page.
    func next() throws -> [[UInt8]]? {
        while true {
            available.wait()
            let taken = try queue.withLock { q throws -> [[UInt8]]?? in
                if let failure = q.failure { throw failure }
                if let page = q.pages.popFirst() { return .some(page) }
                return q.finished ? .some(nil) : nil
            }
            if let taken { return taken }
        }
    }
}
