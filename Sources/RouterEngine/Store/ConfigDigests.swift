import Logging

/// The namespaces digests of the daemons sharing one store: every daemon on a store must
/// enforce the same namespaces, and `/readyz` fails while a live one does not.
package enum ConfigDigests {
    /// The live daemons other than `node` whose digest is not `digest`, as `node N: DIGEST`,
    /// sorted. A daemon that has not published one yet (empty) is left out.
    package static func mismatch(_ digest: String, node: UInt64, live: [UInt64: String]) -> [String] {
        live.compactMap { other, theirs in
            other != node && !theirs.isEmpty && theirs != digest ? "node \(other): \(theirs)" : nil
        }.sorted()
    }

    /// Logs a change from `before` to `after` (an error when mismatches appear, a notice when
    /// they are gone).
    package static func report(before: [String], after: [String], digest: String, store: String, logger: Logger) {
        if before.isEmpty && !after.isEmpty {
            logger.error("daemons on this store enforce other namespaces", metadata: [
                "store": "\(store)", "digest": "\(digest)", "others": "\(after.joined(separator: ", "))",
            ])
        } else if !before.isEmpty && after.isEmpty {
            logger.notice("every daemon on this store enforces the same namespaces now", metadata: ["digest": "\(digest)"])
        }
    }
}
