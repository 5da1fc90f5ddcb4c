import Dispatch
import Synchronization

/// A bounded queue between two threads: one puts chunks of values (blocking while `depth`
/// chunks wait), the other takes them (blocking while none waits) until `finish()`. Start-up
/// reads and decodes the state file's routes on one thread while another stores them.
final class ChunkHandoff<Value: Sendable>: Sendable {
    /// Values a chunk holds: enough that a handoff is rare, few enough that both threads start
    /// working at once.
    static var chunkSize: Int { 8192 }

    private let queue = Mutex<(chunks: [[Value]], finished: Bool)>(([], false))
    /// Chunks waiting to be taken (or the end, signalled once more).
    private let available = DispatchSemaphore(value: 0)
    /// Room for more chunks.
    private let room: DispatchSemaphore

    init(depth: Int) {
        room = DispatchSemaphore(value: depth)
    }

    /// Hands `chunk` over; waits while `depth` chunks are not taken yet.
    func put(_ chunk: [Value]) {
        guard !chunk.isEmpty else { return }
        room.wait()
        queue.withLock { $0.chunks.append(chunk) }
        available.signal()
    }

    /// No more chunks: `take` answers nil once the waiting ones are taken.
    func finish() {
        queue.withLock { $0.finished = true }
        available.signal()
    }

    /// The next chunk, waiting for it; nil after `finish()` and the last chunk.
    func take() -> [Value]? {
        while true {
            available.wait()
            let next = queue.withLock { q -> [Value]?? in
                if !q.chunks.isEmpty { return .some(q.chunks.removeFirst()) }
                return q.finished ? .some(nil) : nil
            }
            if let next {
                if next != nil { room.signal() } else { available.signal() }
                return next
            }
        }
    }
}
