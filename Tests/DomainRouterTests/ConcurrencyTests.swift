import Dispatch
import Foundation
import Synchronization
import Testing
@testable import DomainRouter

@Suite("Concurrency")
struct ConcurrencyTests {
    @Test func racingAddsHaveExactlyOneWinnerPerKey() throws {
        let table = try makeTable()
        let keys = (0..<100).map { "k\($0).example.com" }
        let winners = Mutex<[String: [Int]]>([:])
        let others = Mutex<[RouteError.Code: Int]>([:])
        DispatchQueue.concurrentPerform(iterations: 32) { worker in
            let me = Principal.user("u\(worker)")
            for key in keys.shuffled() {
                do {
                    try table.add(key, tunnel: "t\(worker)", as: me)
                    winners.withLock { $0[key, default: []].append(worker) }
                } catch {
                    others.withLock { $0[(error as! RouteError).code, default: 0] += 1 }
                }
            }
        }
        let won = winners.withLock { $0 }
        #expect(won.count == 100)
        #expect(won.values.allSatisfy { $0.count == 1 })
        #expect(others.withLock { $0 } == [.conflict: 31 * 100])
        for (key, worker) in won {
            let route = try #require(table.lookup(host: key)).route
            #expect(route.tunnel.rawValue == "t\(worker[0])")
            #expect(route.owner == "u\(worker[0])")
        }
        #expect(table.stats().total == 100)
        #expect(table.revision == 100)
        #expect(try table.events(from: 1).allSatisfy { $0.kind == .add })
        #expect(table.keys() == keys.sorted())
    }

    @Test func readersNeverSeeAHalfAppliedChange() throws {
        let table = try makeTable()
        try table.add("k", tunnel: "a", as: root, target: "10.0.0.1:1", labels: ["side": "a"])
        let torn = Atomic<Int>(0)
        let reads = Atomic<Int>(0)
        let readersStarted = Atomic<Int>(0)
        let done = Atomic<Bool>(false)
        let finished = DispatchGroup()
        let readerCount = 3
        for _ in 0..<readerCount {
            finished.enter()
            Thread.detachNewThread {
                readersStarted.add(1, ordering: .relaxed)
                while !done.load(ordering: .acquiring) {
                    reads.add(1, ordering: .relaxed)
                    guard let route = table.lookup(host: "k.example.com")?.route else {
                        torn.add(1, ordering: .relaxed)
                        continue
                    }
                    let side = route.tunnel.rawValue
                    if route.labels["side"] != side { torn.add(1, ordering: .relaxed) }
                    if route.target?.description != (side == "a" ? "10.0.0.1:1" : "10.0.0.2:2") {
                        torn.add(1, ordering: .relaxed)
                    }
                    if let info = try? table.tunnel(route.tunnel), !info.routes.allSatisfy({ $0.tunnel == route.tunnel }) {
                        torn.add(1, ordering: .relaxed)
                    }
                    let stats = table.stats()
                    if stats.total != stats.hosts + stats.wildcards + stats.tcp || stats.total < 1 || stats.total > 2 {
                        torn.add(1, ordering: .relaxed)
                    }
                }
                finished.leave()
            }
        }
        // Write only once every reader runs, so that reads and writes overlap.
        while readersStarted.load(ordering: .relaxed) < readerCount { usleep(100) }
        for i in 0..<4000 {
            let side = i % 2 == 0 ? "b" : "a"
            _ = try? table.add("k", tunnel: side, as: root, replace: true,
                               target: side == "a" ? "10.0.0.1:1" : "10.0.0.2:2", labels: ["side": side])
            if i % 10 == 0 {
                _ = try? table.add("x\(i)", tunnel: "c", as: root)
                _ = try? table.delete(.host("x\(i).example.com"), as: root)
            }
        }
        done.store(true, ordering: .releasing)
        finished.wait()
        #expect(reads.load(ordering: .relaxed) > 0)
        #expect(torn.load(ordering: .relaxed) == 0)
    }
}
