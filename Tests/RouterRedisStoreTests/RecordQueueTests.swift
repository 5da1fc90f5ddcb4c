import Foundation
import Synchronization
import Testing
@testable import RouterRedisStore

/// The queue between a load's scan (on an event loop) and the thread that stores the pages.
@Suite("A load's record queue")
struct RecordQueueTests {
    struct ScanFailed: Error {}
    struct StoreFailed: Error {}

    /// Takes every page on a thread of its own, as the load's storing thread does; the pages
    /// taken, or the error that ended the taking.
    func takeAll(_ queue: RecordQueue, failing: Int? = nil) -> () -> Result<[[[UInt8]]], any Error> {
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
        let queue = RecordQueue()
        let result = takeAll(queue)
        for n in 0..<100 { #expect(queue.put([[UInt8(n)], [1, 2]])) }
        #expect(queue.put([]))
        queue.finish()
        let pages = try result().get()
        #expect(pages.count == 100)
        #expect(pages.map { $0[0][0] } == (0..<100).map { UInt8($0) })
    }

    @Test func aFailedScanEndsTheTakingWithItsError() {
        let queue = RecordQueue()
        queue.put([[1]])
        queue.finish(failure: ScanFailed())
        #expect(throws: ScanFailed.self) { try takeAll(queue)().get() }
    }

    @Test func aTakerThatGivesUpTellsTheScanToStop() throws {
        let queue = RecordQueue()
        let result = takeAll(queue, failing: 2)
        #expect(queue.put([[1]]))
        #expect(queue.put([[2]]))
        #expect(queue.put([[3]]))
        #expect(throws: StoreFailed.self) { try result().get() }
        #expect(!queue.put([[4]]))
    }
}
