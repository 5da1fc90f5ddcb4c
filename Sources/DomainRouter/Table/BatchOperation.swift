/// One change in an atomic batch (see `RouteTable.apply(_:as:)`).
public enum BatchOperation: Sendable {
    case add(AddRequest)
    case delete(RouteKey)
    case touch(RouteKey, ttl: Duration?)
}

/// What one operation of a committed batch did.
public enum BatchOutcome: Sendable {
    case added(AddResult)
    case deleted([Route])
    case touched([Route])
}

/// Why an atomic batch changed nothing: the first operation that failed and its error.
public struct BatchFailure: Error, Sendable {
    /// The failing operation's position in the batch, from 0.
    public var index: Int
    /// Why it failed.
    public var error: RouteError

    /// A failure of the operation at `index`.
    public init(index: Int, error: RouteError) {
        self.index = index
        self.error = error
    }
}
