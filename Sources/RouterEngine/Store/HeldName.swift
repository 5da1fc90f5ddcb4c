import DomainRouter

/// A name kept for the owner of the route that lapsed there (its TTL ran out or its session
/// ended), until `until`: `routerd --db --hold-released`. Not a route: lookups by Host miss it;
/// the owner gets it back with a plain add, anyone else but an admin gets `conflict`.
package struct HeldName: Sendable, Hashable {
    package var key: String
    package var owner: String
    package var until: Timestamp

    package init(key: String, owner: String, until: Timestamp) {
        self.key = key
        self.owner = owner
        self.until = until
    }
}

extension RouteStore {
    /// Stores without held names (memory, Redis, etcd) hold none.
    package func heldName(_ key: String) -> HeldName? { nil }

    /// ... and refuse to list them, saying where they live (as `history` does).
    package func heldNames(prefix: String?, owner: String?) throws(RouteError) -> [HeldName] {
        throw .invalidArgument("this routerd holds no names for their last owners: start it with --db FILE --hold-released DURATION to keep them")
    }
}
