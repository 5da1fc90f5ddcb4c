import DomainRouter
import RouterEngine
import RouterProtocol

/// A drafted run as the state file stores it: for each event, its route row and its history
/// row's text (the key, the stored route after and before, who made it), encoded into one
/// buffer on the writer's task while the run before it is being written, so that the
/// transaction only binds and steps.
struct RunRows: Sendable {
    /// One event's row: where each text lies in `bytes`.
    struct Row: Sendable {
        var revision: Int64
        var kind: RouteEvent.Kind
        var key: String
        var owner: String
        var keyText: Range<Int>
        var kindText: Range<Int>
        var ownerText: Range<Int>
        var tunnel: Range<Int>
        var principal: Range<Int>
        var peer: Range<Int>
        /// The stored route after the change; nil when the key is gone.
        var stored: Range<Int>?
        /// The stored route before the change; nil when the key was free.
        var previous: Range<Int>?
    }

    var bytes: [UInt8]
    var rows: [Row]
    /// The revision the table stands at once the run is in.
    var revision: UInt64

    /// The rows of `draft` (of `run`); `before` holds what each key a change replaces or
    /// removes held before the run.
    init(_ draft: Draft, of run: [DraftWriter.Pending], before: [String: Route?]) {
        var out = JSONWriter(capacity: 256 * draft.events.count + 64)
        var rows: [Row] = []
        rows.reserveCapacity(draft.events.count)
        // What each key held before this change: as it stood before the run, then the run's
        // own previous change to it.
        var latest = before
        var step = 0
        for (index, event) in draft.events.enumerated() {
            while step < draft.stepEnds.count - 1 && index >= draft.stepEnds[step] { step += 1 }
            guard let route = event.route else { continue }
            let previous: Route? = event.kind == .add ? nil : (latest[event.key] ?? nil)
            let after: Route? = (event.kind == .add || event.kind == .update) ? route : nil
            if !latest.isEmpty && latest[event.key] != nil { latest[event.key] = .some(after) }
            let keyText = out.span { $0.append(event.key) }
            let kindText = out.span { $0.append(event.kind.rawValue) }
            let ownerText = out.span { $0.append(route.owner) }
            let tunnel = out.span { out in
                out.appendReserved(TunnelID.maximumLength) { raw in
                    route.tunnel.writeText(to: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            let principal = out.span { $0.append(run[step].principal) }
            let peer = out.span { $0.append(run[step].peer) }
            let stored = after.map { after in out.span { StoredRoute.write(after, to: &$0) } }
            let before = previous.map { previous in out.span { StoredRoute.write(previous, to: &$0) } }
            rows.append(Row(revision: Int64(event.revision), kind: event.kind, key: event.key, owner: route.owner,
                            keyText: keyText, kindText: kindText, ownerText: ownerText, tunnel: tunnel,
                            principal: principal, peer: peer, stored: stored, previous: before))
        }
        bytes = out.bytes
        self.rows = rows
        revision = draft.events.last?.revision ?? draft.base
    }
}

extension JSONWriter {
    /// Where the bytes `body` appends lie in `bytes`.
    mutating func span(_ body: (inout JSONWriter) -> Void) -> Range<Int> {
        let start = bytes.count
        body(&self)
        return start..<bytes.count
    }
}
