extension RouteTable {
    /// Removes every route and session whose deadline has passed, with `expire` events.
    /// Returns how many routes went.
    @discardableResult
    public func sweep() -> Int {
        let now = self.now
        guard let next = state.read({ $0.nextDeadline }), next <= now else { return 0 }
        return state.write { $0.expireDue(now: now) }
    }

    /// Sweeps every `interval` until the task is cancelled; with the default interval an
    /// expired route is removed well within a second of its deadline.
    public func runExpiry(every interval: Duration = .milliseconds(200)) async {
        while !Task.isCancelled {
            sweep()
            try? await Task.sleep(for: interval)
        }
    }
}
