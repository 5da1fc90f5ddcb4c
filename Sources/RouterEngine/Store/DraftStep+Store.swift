import DomainRouter
import Synchronization

// What a store that drafts changes and commits them elsewhere (Redis, SQLite) needs around
// `RouteTable.draft(_:)`: how big a step is, what it answers when it cannot be committed, and
// a collector for steps queued together.

extension DraftStep {
    /// How many changes the step may make, for sizing runs.
    package var size: Int {
        switch self {
        case .add(let requests, _): return requests.count
        case .batch(let operations, _): return operations.count
        default: return 1
        }
    }

    /// The step's outcome when it could not be committed at all.
    package func failure(_ error: RouteError) -> DraftOutcome {
        switch self {
        case .add(let requests, _): return .added(Array(repeating: .failure(error), count: requests.count))
        case .delete: return .deleted(.failure(error))
        case .touch: return .touched(.failure(error))
        case .update: return .updated(.failure(error))
        case .batch: return .batch(.failure(BatchFailure(index: 0, error: error)))
        case .expireDue, .expireSessions: return .expired(0)
        case .moveSession: return .failed(error)
        }
    }
}

/// Gathers the outcomes of steps queued together and hands them over once all are in.
package final class OutcomeCollector: Sendable {
    private let slots: Mutex<(outcomes: [DraftOutcome?], missing: Int)>
    private let completion: @Sendable ([DraftOutcome]) -> Void

    package init(count: Int, completion: @escaping @Sendable ([DraftOutcome]) -> Void) {
        slots = Mutex((Array(repeating: nil, count: count), count))
        self.completion = completion
    }

    package func set(_ index: Int, _ outcome: DraftOutcome) {
        let done = slots.withLock { s -> [DraftOutcome]? in
            s.outcomes[index] = outcome
            s.missing -= 1
            return s.missing == 0 ? s.outcomes.map { $0! } : nil
        }
        if let done { completion(done) }
    }
}
