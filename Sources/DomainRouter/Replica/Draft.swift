/// A change to work out against the table as it stands, without making it (see
/// `RouteTable.draft(_:)`): what a store that decides changes elsewhere (Redis) sends there.
package enum DraftStep: Sendable {
    /// Adds in order, each on its own (as `RouteTable.add(each:as:)`).
    case add([AddRequest], Principal)
    /// `RouteTable.delete(_:as:)`.
    case delete(RouteKey, Principal)
    /// `RouteTable.touch(_:ttl:as:)`.
    case touch(RouteKey, ttl: Duration?, Principal)
    /// `RouteTable.update(_:_:as:)`.
    case update(RouteKey, RouteChange, Principal)
    /// All or nothing (as `RouteTable.apply(_:as:)`).
    case batch([BatchOperation], Principal)
    /// Whatever is due: TTLs run out and ended sessions past their grace.
    case expireDue
    /// Every route bound to one of these sessions (their daemon is gone).
    case expireSessions(Set<UInt64>)
    /// A resumed session: its routes move to the new session, each with an `update` event (a
    /// shared store's other daemons must learn whose session holds them).
    case moveSession(from: UInt64, to: UInt64)
}

/// What a draft step would answer, once its events are committed.
package enum DraftOutcome: Sendable {
    case added([Result<AddResult, RouteError>])
    case deleted(Result<[Route], RouteError>)
    case touched(Result<[Route], RouteError>)
    case updated(Result<Route, RouteError>)
    case batch(Result<[BatchOutcome], BatchFailure>)
    case expired(Int)
    case moved(Int)
    /// A step whose answer is not a route error of its own (a session move) could not be made.
    case failed(RouteError)
}

/// A worked-out change: each step's answer, and the events that make it, numbered from the
/// revision after `base`. Committing it means applying `events` (with `RouteTable.replicate`)
/// to a table still at `base`.
package struct Draft: Sendable {
    package var base: UInt64
    package var outcomes: [DraftOutcome]
    package var events: [RouteEvent]
    /// For each step, how many of `events` the steps up to and including it made: step i made
    /// `events[(i == 0 ? 0 : stepEnds[i - 1])..<stepEnds[i]]` (a store recording who made a
    /// change reads it).
    package var stepEnds: [Int] = []
}
