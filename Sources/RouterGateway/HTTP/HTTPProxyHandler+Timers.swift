import NIOCore

// One limit at a time, on one scheduled task whose deadline moves: the header timeout, the
// idle timeout, the upstream timeout, the linger time.
extension HTTPProxyHandler {
    /// One limit at a time: the header timeout on a new connection, the idle timeout between
    /// requests, the upstream timeout from a request's end until its response begins, the
    /// linger time of a closing connection.
    func armTimer(_ delay: TimeAmount, context: ChannelHandlerContext) {
        let at = NIODeadline.now() + delay
        deadline = at
        if timer == nil || timerAt > at { schedule(at, context: context) }
    }

    /// No limit until the next `armTimer` (the task, if any, finds nothing to do).
    func stopTimer() {
        deadline = nil
    }

    func cancelTimer() {
        deadline = nil
        timer?.cancel()
        timer = nil
    }

    func schedule(_ at: NIODeadline, context: ChannelHandlerContext) {
        timer?.cancel()
        timerAt = at
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: at) { [weak self] in self?.timerDue() }
    }

    func timerDue() {
        timer = nil
        guard let deadline, let context else { return }
        if deadline > .now() { return schedule(deadline, context: context) }
        self.deadline = nil
        timerFired()
    }

    func timerFired() {
        guard let context else { return }
        switch state.timerFired() {
        case .gatewayTimeout(var exchange):
            respondWithError(&exchange, .gatewayTimeout, "The service did not answer in time.", context: context)
            drain()
        case .close:
            closeClient(context)
        case .ignore:
            break
        }
    }
}
