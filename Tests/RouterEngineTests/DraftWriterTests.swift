import DomainRouter
import RouterEngine
import Synchronization
import Testing

/// The drafting stores' one writer: runs in order and within the limit, every change completed
/// exactly once, nothing left waiting at shutdown.
@Suite("Draft writer")
struct DraftWriterTests {
    static let alice = Principal.user("alice")

    /// A touch step: size 1, any key.
    static func step(_ n: Int) -> DraftStep {
        .touch(.host("n\(n).example.com"), ttl: nil, alice)
    }

    @Test func runsKeepTheQueuedOrderWithinTheLimitAndCompleteEachChangeOnce() async {
        let writer = DraftWriter(limit: 3)
        let runs = Mutex<[[String]]>([])
        let completed = Mutex<[Int]>([])
        for n in 0..<8 {
            writer.enqueue([Self.step(n)], principal: "p\(n)", peer: "") { outcomes in
                #expect(outcomes.count == 1)
                completed.withLock { $0.append(n) }
            }
        }
        writer.finish()
        await writer.run { run in
            runs.withLock { $0.append(run.map(\.principal)) }
            for pending in run { pending.complete(.touched(.success([]))) }
        }
        #expect(runs.withLock { $0 } == [["p0", "p1", "p2"], ["p3", "p4", "p5"], ["p6", "p7"]])
        #expect(completed.withLock { $0 } == Array(0..<8))
    }

    @Test func aChangeQueuedWhileACommitRunsGoesInTheNextRun() async {
        let writer = DraftWriter(limit: 100)
        let runs = Mutex<[Int]>([])
        writer.enqueue([Self.step(0)], principal: "", peer: "") { _ in }
        await writer.run { run in
            runs.withLock { $0.append(run.count) }
            if runs.withLock({ $0.count }) == 1 {
                // Arrives while the first run commits.
                writer.enqueue([Self.step(1), Self.step(2)], principal: "", peer: "") { _ in }
                writer.finish()
            }
            for pending in run { pending.complete(.touched(.success([]))) }
        }
        #expect(runs.withLock { $0 } == [1, 2])
    }

    @Test func aChangeQueuedAfterFinishIsRefusedAtOnce() async throws {
        let writer = DraftWriter(limit: 10)
        writer.finish()
        let answer = Mutex<[DraftOutcome]?>(nil)
        writer.enqueue([Self.step(0)], principal: "", peer: "") { outcomes in answer.withLock { $0 = outcomes } }
        let outcome = try #require(answer.withLock { $0 }?.first)
        guard case .touched(.failure(let error)) = outcome else {
            Issue.record("refused as unavailable, not \(outcome)")
            return
        }
        #expect(error.code == .unavailable)
        await writer.run { _ in Issue.record("nothing to commit") }
    }
}
