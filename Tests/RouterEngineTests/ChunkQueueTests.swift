import Foundation
import Synchronization
import Testing
@testable import RouterEngine

/// The queue between a load's reading (a Redis scan on an event loop, a state file's rows on a
/// thread) and the thread that stores what was read.
@Suite("A load's chunk queue")
struct ChunkQueueTests {
    struct ScanFailed: Error {}
    struct StoreFailed: Error {}

    /// Takes every page on a thread of its own, as the load's storing thread does; the pages
    /// taken, or the error that ended the taking.
    func takeAll(_ queue: ChunkQueue<[UInt8]>, failing: Int? = nil) -> () -> Result<[[[UInt8]]], any Error> {
        let outcome = Mutex<Result<[[[UInt8]]], any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            var taken: [[[UInt8]]] = []
            let result = Result { () throws -> [[[UInt8]]] in
                while let page = try queue.next() {
                    if taken.count == failing { queue.abandon(); throw StoreFailed() }
                    taken.append(page)
                }
                return taken
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        return {
            _ = done.wait(timeout: .now() + 30)
            return outcome.withLock { $0 } ?? .failure(CancellationError())
        }
    }

    @Test func pagesArriveInOrderAndTheEndAfterTheLast() throws {
        let queue = ChunkQueue<[UInt8]>()
        let result = takeAll(queue)
        for n in 0..<100 { #expect(queue.put([[UInt8(n)], [1, 2]])) }
        #expect(queue.put([]))
        queue.finish()
        let pages = try result().get()
        #expect(pages.count == 100)
        #expect(pages.map { $0[0][0] } == (0..<100).map { UInt8($0) })
    }

    @Test func aFailedScanEndsTheTakingWithItsError() {
        let queue = ChunkQueue<[UInt8]>()
        queue.put([[1]])
        queue.finish(failure: ScanFailed())
        #expect(throws: ScanFailed.self) { try takeAll(queue)().get() }
    }

    @Test func aTakerThatGivesUpTellsTheScanToStop() throws {
        let queue = ChunkQueue<[UInt8]>()
        let result = takeAll(queue, failing: 2)
        #expect(queue.put([[1]]))
        #expect(queue.put([[2]]))
        #expect(queue.put([[3]]))
        #expect(throws: StoreFailed.self) { try result().get() }
        #expect(!queue.put([[4]]))
    }

    @Test func aProducerWaitingForRoomGoesOnWhenTheTakerGivesUp() {
        let queue = ChunkQueue<Int>(depth: 1)
        let second = Mutex<Bool?>(nil)
        let (first, done) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        Thread.detachNewThread {
            queue.put([1]) // the queue is full now: the next put waits for room
            first.signal()
            let taken = queue.put([2])
            second.withLock { $0 = taken }
            done.signal()
        }
        first.wait()
        queue.abandon()
        #expect(done.wait(timeout: .now() + 30) == .success, "the producer stayed blocked")
        #expect(second.withLock { $0 } == false)
    }

    @Test func aBoundedQueueEndedWithChunksUntakenIsFreedQuietly() {
        // libdispatch stops the process when a semaphore is freed below its starting value.
        do {
            let queue = ChunkQueue<Int>(depth: 3)
            queue.put([1])
            queue.put([2])
            queue.finish(failure: CancellationError())
        }
        #expect(Bool(true))
    }

    @Test func aBoundedQueueHandsEveryChunkOverInOrder() throws {
        let queue = ChunkQueue<Int>(depth: 2)
        Thread.detachNewThread {
            for n in 0..<1000 { queue.put([n, n]) }
            queue.finish()
        }
        var taken: [Int] = []
        while let chunk = try queue.next() { taken.append(chunk[0]) }
        #expect(taken == Array(0..<1000))
        #expect(try queue.next() == nil)
    }
}
