import DomainRouter
import RouterEngine
import Synchronization
import Testing

/// The drafting stores' one writer: runs in order and within the limit, the next run drafted
/// on the one committing, a run that does not commit voiding those drafted on it, every change
/// completed exactly once, nothing left waiting at shutdown.
@Suite("Draft writer")
struct DraftWriterTests {
    static let alice = Principal.user("alice")

    static func table() throws -> RouteTable {
        try RouteTable(configuration: RouteTableConfiguration(baseDomains: ["example.com"]), clock: ManualClock())
    }

    /// An add step of one name: size 1.
    static func add(_ table: RouteTable, _ name: String) throws -> DraftStep {
        .add([AddRequest(.key(try table.key(name)), tunnel: try TunnelID("t1"))], alice)
    }

    /// Queues one add of `name`; its result goes to `results` under the name.
    static func enqueue(_ writer: DraftWriter, _ table: RouteTable, _ name: String,
                        into results: Answers) throws {
        writer.enqueue([try add(table, name)], principal: name, peer: "") { outcomes in
            guard outcomes.count == 1, case .added(let added) = outcomes[0], added.count == 1 else {
                Issue.record("one add outcome for \(name), not \(outcomes)")
                return
            }
            results.answers.withLock {
                #expect($0[name] == nil, "\(name) answered twice")
                $0[name] = added[0]
            }
        }
    }

    @Test func runsKeepTheQueuedOrderWithinTheLimitAndCompleteEachChangeOnce() async throws {
        let table = try Self.table()
        let writer = DraftWriter(limit: 3)
        let store = ScriptedStore(table: table)
        let results = Answers()
        for n in 0..<8 { try Self.enqueue(writer, table, "n\(n)", into: results) }
        writer.finish()
        await writer.run(store)
        #expect(store.runs == [["n0", "n1", "n2"], ["n3", "n4", "n5"], ["n6", "n7"]])
        #expect(results.answers.withLock { $0.count } == 8)
        #expect(results.answers.withLock { $0.values.allSatisfy { (try? $0.get()) != nil } })
        #expect(table.revision == 8)
        #expect(table.lookup(host: "n7.example.com") != nil)
    }

    @Test func theNextRunIsDraftedOnTheOneCommittingAndSentBeforeItsOutcome() async throws {
        let table = try Self.table()
        let writer = DraftWriter(limit: 1)
        let store = ScriptedStore(table: table)
        let results = Answers()
        for name in ["a", "b"] { try Self.enqueue(writer, table, name, into: results) }
        writer.finish()
        await writer.run(store)
        #expect(store.calls == ["submit 1 after 0 pending", "submit 2 after 1 pending", "outcome 1", "outcome 2"])
        #expect(store.bases == [0, 1])
        #expect(results.answers.withLock { $0.values.allSatisfy { (try? $0.get()) != nil } })
        #expect(table.revision == 2)
    }

    @Test func aRunDraftedOnTheOneCommittingSeesItsChanges() async throws {
        let table = try Self.table()
        let writer = DraftWriter(limit: 1)
        let store = ScriptedStore(table: table)
        let results = Answers()
        try Self.enqueue(writer, table, "a", into: results)
        // Another owner's add of the same name, drafted while the first commits: refused.
        writer.enqueue([.add([AddRequest(.key(try table.key("a")), tunnel: try TunnelID("t2"))], .user("bob"))],
                       principal: "bob", peer: "") { outcomes in
            if case .added(let added) = outcomes[0] { results.answers.withLock { $0["bob"] = added[0] } }
        }
        writer.finish()
        await writer.run(store)
        #expect(store.drafts == [["a"], ["bob"]])
        #expect(store.runs == [["a"]])
        let (first, second) = results.answers.withLock { ($0["a"], $0["bob"]) }
        #expect(try first?.get().route.owner == "alice")
        #expect(throws: RouteError.self) { try second?.get() }
        #expect(table.revision == 1)
    }

    @Test func aStaleCommitVoidsTheRunsDraftedOnItWhichAreDraftedAgainInOrderAfterRecovery() async throws {
        let table = try Self.table()
        let writer = DraftWriter(limit: 1)
        // The store moved on under the first commit (another daemon's change): stale, and so
        // is the second, drafted on it.
        let store = ScriptedStore(table: table, stale: [1])
        let results = Answers()
        for name in ["a", "b", "c"] { try Self.enqueue(writer, table, name, into: results) }
        writer.finish()
        await writer.run(store)
        #expect(store.calls == [
            "submit 1 after 0 pending", "submit 2 after 1 pending", "outcome 1", "outcome 2", "recover",
            "submit 3 after 0 pending", "submit 4 after 1 pending", "outcome 3",
            "submit 5 after 1 pending", "outcome 4", "outcome 5",
        ])
        #expect(store.runs == [["a"], ["b"], ["a"], ["b"], ["c"]])
        #expect(results.answers.withLock { $0.count } == 3)
        #expect(results.answers.withLock { $0.values.allSatisfy { (try? $0.get()) != nil } })
        #expect(table.list(as: .admin("root")).routes.map(\.key) == ["a.example.com", "b.example.com", "c.example.com"])
    }

    @Test func aDeepPipelineKeepsEveryRunDraftedOnTheOnesBeforeItAndRedraftsAllOfThemAfterAStaleOne() async throws {
        let table = try Self.table()
        let writer = DraftWriter(limit: 2)
        // Four runs under way at once; the second is stale, voiding the third and fourth.
        let store = ScriptedStore(table: table, stale: [2])
        let results = Answers()
        let names = (0..<10).map { "n\($0)" }
        for name in names { try Self.enqueue(writer, table, name, into: results) }
        writer.finish()
        await writer.run(store, depth: 4)
        // The first commit makes room for a fifth run, drafted on the three still under way.
        #expect(Array(store.calls.prefix(11)) == [
            "submit 1 after 0 pending", "submit 2 after 2 pending", "submit 3 after 4 pending", "submit 4 after 6 pending",
            "outcome 1", "submit 5 after 6 pending", "outcome 2", "outcome 3", "outcome 4", "outcome 5", "recover",
        ])
        // Each run drafted on every change before it: its base counts them.
        #expect(Array(store.bases.prefix(5)) == [0, 2, 4, 6, 8])
        // The stale run and the three drafted on it, drafted again in their order.
        #expect(Array(store.runs.dropFirst(5).prefix(4)) == [["n2", "n3"], ["n4", "n5"], ["n6", "n7"], ["n8", "n9"]])
        #expect(results.answers.withLock { $0.count } == 10)
        #expect(results.answers.withLock { $0.values.allSatisfy { (try? $0.get()) != nil } })
        #expect(table.list(as: .admin("root")).routes.map(\.key) == names.map { "\($0).example.com" }.sorted())
        #expect(table.revision == 10)
    }

    @Test func aFailedCommitAnswersItsRunWithTheErrorAndTheNextIsDraftedAgain() async throws {
        let table = try Self.table()
        let writer = DraftWriter(limit: 1)
        let store = ScriptedStore(table: table, failed: [1])
        let results = Answers()
        for name in ["a", "b"] { try Self.enqueue(writer, table, name, into: results) }
        writer.finish()
        await writer.run(store)
        #expect(store.runs == [["a"], ["b"], ["b"]])
        let (a, b) = results.answers.withLock { ($0["a"], $0["b"]) }
        #expect(throws: RouteError.self) { try a?.get() }
        #expect(try b?.get().route.key == "b.example.com")
        #expect(table.lookup(host: "a.example.com") == nil)
        #expect(table.revision == 1)
    }

    @Test func aRunAlwaysFoundStaleIsRefusedAfterItsAttempts() async throws {
        let table = try Self.table()
        let writer = DraftWriter(limit: 1)
        let store = ScriptedStore(table: table, stale: Set(1...10))
        let results = Answers()
        try Self.enqueue(writer, table, "a", into: results)
        writer.finish()
        await writer.run(store, attempts: 3)
        #expect(store.runs.count == 3)
        let error = results.answers.withLock { $0["a"] }.flatMap { result -> RouteError? in
            if case .failure(let error) = result { return error }
            return nil
        }
        #expect(error?.code == .unavailable)
        #expect(error?.description.contains("kept changing") == true)
    }

    @Test func aDraftThatChangesNothingWaitsForTheRunsBeforeIt() async throws {
        let table = try Self.table()
        let writer = DraftWriter(limit: 1)
        let store = ScriptedStore(table: table, stale: [1])
        let results = Answers()
        try Self.enqueue(writer, table, "a", into: results)
        // Refused on the first run's draft (the name is taken there): no commit of its own,
        // but void with the first, and drafted again after it.
        writer.enqueue([.add([AddRequest(.key(try table.key("a")), tunnel: try TunnelID("t2"))], .user("bob"))],
                       principal: "again", peer: "") { outcomes in
            if case .added(let added) = outcomes[0] { results.answers.withLock { $0["a again"] = added[0] } }
        }
        writer.finish()
        await writer.run(store)
        #expect(store.runs == [["a"], ["a"]])
        #expect(store.drafts == [["a"], ["again"], ["a"], ["again"]])
        let again = results.answers.withLock { $0["a again"] }
        #expect(throws: RouteError.self) { try again?.get() }
    }

    @Test func aChangeQueuedAfterFinishIsRefusedAtOnce() async throws {
        let table = try Self.table()
        let writer = DraftWriter(limit: 10)
        writer.finish()
        let answer = Mutex<[DraftOutcome]?>(nil)
        writer.enqueue([try Self.add(table, "a")], principal: "", peer: "") { outcomes in answer.withLock { $0 = outcomes } }
        let outcome = try #require(answer.withLock { $0 }?.first)
        guard case .added(let results) = outcome, case .failure(let error) = results.first else {
            Issue.record("refused as unavailable, not \(outcome)")
            return
        }
        #expect(error.code == .unavailable)
        let store = ScriptedStore(table: table)
        await writer.run(store)
        #expect(store.calls.isEmpty)
    }
}

/// The writer's answers to adds, by name.
final class Answers: Sendable {
    let answers = Mutex<[String: Result<AddResult, RouteError>]>([:])
}

/// A store whose commits go as scripted: every commit is committed unless its number is in
/// `stale` or `failed`; like a real store, a commit drafted on one that did not commit is
/// stale. It records what the writer asked of it, in order.
final class ScriptedStore: DraftCommitter {
    let table: RouteTable
    var location: String { "the scripted store" }
    let stale: Set<Int>
    let failed: Set<Int>

    private struct Record {
        var calls: [String] = []
        var runs: [[String]] = []
        var drafts: [[String]] = []
        var bases: [UInt64] = []
        var commits = 0
        var committed: [Int: Bool] = [:]
    }

    private let record = Mutex(Record())

    init(table: RouteTable, stale: Set<Int> = [], failed: Set<Int> = []) {
        self.table = table
        self.stale = stale
        self.failed = failed
    }

    var calls: [String] { record.withLock { $0.calls } }
    /// The principals of each submitted run.
    var runs: [[String]] { record.withLock { $0.runs } }
    /// The principals of each drafted run.
    var drafts: [[String]] { record.withLock { $0.drafts } }
    var bases: [UInt64] { record.withLock { $0.bases } }

    struct Commit: Sendable {
        var number: Int
        var previous: Int?
    }

    func draft(_ run: [DraftWriter.Pending], after pending: PendingEvents) -> Draft? {
        record.withLock { $0.drafts.append(run.map(\.principal)) }
        // Kept in the table, as the stores keep theirs: a run that does not commit must be
        // taken out again by the writer, or the names it drafted stay taken.
        return table.draft(run.map(\.step), after: pending, keep: true)
    }

    func submit(_ draft: Draft, of run: [DraftWriter.Pending], after pending: PendingEvents,
                following previous: Commit?) async -> Commit {
        record.withLock { r in
            r.commits += 1
            r.calls.append("submit \(r.commits) after \(pending.count) pending")
            r.runs.append(run.map(\.principal))
            r.bases.append(draft.base)
            return Commit(number: r.commits, previous: previous?.number)
        }
    }

    func outcome(of commit: Commit) async -> CommitOutcome {
        record.withLock { r in
            r.calls.append("outcome \(commit.number)")
            let afterCommitted = commit.previous.map { r.committed[$0] == true } ?? true
            let outcome: CommitOutcome
            if !afterCommitted || stale.contains(commit.number) {
                outcome = .stale
            } else if failed.contains(commit.number) {
                outcome = .failed(.unavailable("scripted failure"))
            } else {
                outcome = .committed
            }
            if case .committed = outcome { r.committed[commit.number] = true } else { r.committed[commit.number] = false }
            return outcome
        }
    }

    func recover() async {
        record.withLock { $0.calls.append("recover") }
    }

    func answer(_ run: [DraftWriter.Pending], _ outcomes: [DraftOutcome]) {
        for (pending, outcome) in zip(run, outcomes) { pending.complete(outcome) }
    }
}
