extension RouteTable {
    /// The session (connection) ended: its routes go after `grace`, unless it is resumed first.
    public func endSession(_ session: UInt64, grace: Duration) {
        let now = self.now
        state.write { $0.endSession(session, grace: grace.milliseconds, now: now) }
    }

    /// Moves an ended session's routes to a new session before its grace runs out; returns
    /// how many routes it kept (0 when none were left).
    @discardableResult
    public func resumeSession(_ old: UInt64, as new: UInt64) -> Int {
        let now = self.now
        return state.write { $0.resumeSession(old, as: new, now: now) }
    }
}
