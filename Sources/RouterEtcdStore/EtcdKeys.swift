import RouterEtcd

/// The etcd keys of one table, all under `PREFIX/`.
struct EtcdKeys: Sendable {
    let prefix: String
    /// The store's id: drawn when the table is first written, gone with the prefix.
    let id: String
    /// `REVISION TOKEN`: the table's revision and the token of the change that made it. Every
    /// commit compares it, so exactly one of two changes drafted on the same revision commits.
    let head: String
    /// One key per committed change (`log/` and its last revision, zero-padded), holding its
    /// events (`EtcdCommitEntry`); trimmed to about the history.
    let log: String
    /// Parts of a change too large for one request, written before the change commits.
    let parts: String
    /// The revision the `routes/` keys show: changes after it are still only in the log.
    let applied: String
    /// `routes/KEY` → the stored route, as of `applied`.
    let routes: String
    /// The counter handing each daemon its node number (session numbers are the node's).
    let nodes: String
    /// `nodes/N`, bound to daemon N's etcd lease: alive while it is; its value is the digest
    /// of the namespaces the daemon enforces.
    let members: String
    /// `tickets/TOKEN` → `SESSION UID EXPIRY_MS`: a closed session's resume ticket.
    let tickets: String

    init(prefix: String) {
        self.prefix = prefix
        let base = prefix + "/"
        id = base + "id"
        head = base + "head"
        log = base + "log/"
        parts = base + "parts/"
        applied = base + "applied"
        routes = base + "routes/"
        nodes = base + "nodes"
        members = base + "members/"
        tickets = base + "tickets/"
    }

    /// The log key of the change whose last event is at `revision`: sorted as numbers.
    func log(_ revision: UInt64) -> String {
        let digits = String(revision)
        return log + String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// The end of a prefix's range.
    func end(_ prefix: String) -> String { EtcdJSON.prefixEnd(prefix) }
}
