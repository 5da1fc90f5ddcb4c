import DomainRouter
import Logging

/// Who a request comes from, as every front end describes it to the executor: the principal
/// it acts as, the session its session-bound routes belong to, and the logger whose metadata
/// (connection, peer) names it in the audit trail.
package struct Caller: Sendable {
    package var principal: Principal
    /// The session (a socket connection's id); 0 for a front end without sessions.
    package var session: UInt64
    package var logger: Logger
    /// The front end it came through, for the metrics.
    package var transport: RouterMetrics.Transport
    /// Where it connects from, as the change history records it: `uid 1000 pid 4242` on the
    /// socket, `token alice from 10.0.0.5:51234` over HTTP; empty when unknown.
    package var peer: String
    /// Whether change lines (notice) reach the log: decided once per caller, since building
    /// their metadata for a logger that drops them cost more than the add's reply. `audits`
    /// false (`--audit-log none`) leaves them out whatever the level.
    package let auditsChanges: Bool

    package init(principal: Principal, session: UInt64, logger: Logger, transport: RouterMetrics.Transport = .socket, peer: String = "",
                 audits: Bool = true) {
        self.principal = principal
        self.session = session
        self.logger = logger
        self.transport = transport
        self.peer = peer
        auditsChanges = audits && logger.logLevel <= .notice
    }
}
