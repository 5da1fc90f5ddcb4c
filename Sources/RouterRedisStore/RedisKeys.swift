/// The Redis keys of one table. They share one hash tag (`{prefix}`), so that every script's
/// keys sit in one slot and the scripts run on Redis Cluster too.
struct RedisKeys: Sendable {
    let prefix: String
    /// The store's id: drawn when the table is first written, gone with a `FLUSHALL`.
    let id: String
    /// The revision counter.
    let revision: String
    /// Hash: route key → stored route (JSON).
    let routes: String
    /// Stream: entries of up to 256 changes (`RedisLogText`), each id the revision of its last
    /// change (`R-0`), trimmed to about the history.
    let log: String
    /// The token of the last change committed (`node.sequence`): a draft made on a change still
    /// under way commits only after it.
    let last: String
    /// Counter handing each daemon its node number (session numbers are the node's).
    let nodes: String
    /// Hash: node number → lease expiry (milliseconds since the epoch).
    let leases: String
    /// Hash: node number → the digest of the namespaces it enforces.
    let digests: String

    /// A closed session's resume ticket (`session uid`), lasting the grace.
    func ticket(_ token: String) -> String { "{\(prefix)}:ticket:" + token }

    init(prefix: String) {
        self.prefix = prefix
        let tag = "{\(prefix)}"
        id = tag + ":id"
        revision = tag + ":rev"
        routes = tag + ":routes"
        log = tag + ":log"
        last = tag + ":last"
        nodes = tag + ":nodes"
        leases = tag + ":leases"
        digests = tag + ":digests"
    }
}
