import DomainRouter
import NIOCore

/// Idle kept-alive connections to targets, shared by every client connection of one event
/// loop (HAProxy's `http-reuse safe`): a connection is parked only after its response was read
/// to its end and its request sent whole, so the next request on it, from any client, starts
/// on a clean message boundary. At most `maximumIdle` wait per target; a connection that
/// closes or sends anything while parked leaves the pool.
///
/// Not thread-safe by design: one pool per event loop, used only on it (`GatewayContext`
/// hands each handler its loop's pool), as are the connections in it.
final class UpstreamPool {
    let maximumIdle: Int
    private var idle: [RouteTarget: [UpstreamLink]] = [:]

    init(maximumIdle: Int) {
        self.maximumIdle = maximumIdle
    }

    /// The most recently parked live connection to `target`, taken out of the pool.
    func take(_ target: RouteTarget) -> UpstreamLink? {
        // By index: the list is changed in place, not copied out of the dictionary and back.
        guard let index = idle.index(forKey: target) else { return nil }
        while let link = idle.values[index].popLast() {
            link.parked = false
            if link.channel.isActive { return link }
        }
        return nil
    }

    /// Keeps `link` for the next request to its target, or closes it when the target already
    /// has `maximumIdle` waiting.
    func park(_ link: UpstreamLink) {
        link.handler?.downstream = nil
        let index = idle.index(forKey: link.target)
        guard maximumIdle > 0, link.channel.isActive, index.map({ idle.values[$0].count }) ?? 0 < maximumIdle else {
            link.channel.close(promise: nil)
            return
        }
        link.parked = true
        if let index { idle.values[index].append(link) } else { idle[link.target] = [link] }
    }

    /// A parked connection closed or spoke out of turn: it is no longer offered.
    func remove(_ link: UpstreamLink) {
        guard link.parked else { return }
        link.parked = false
        idle[link.target]?.removeAll { $0 === link }
        if idle[link.target]?.isEmpty == true { idle[link.target] = nil }
    }

    /// Closes every parked connection (the gateway is stopping).
    func closeAll() {
        let all = idle.values.joined()
        idle = [:]
        for link in all { link.channel.close(promise: nil) }
    }
}
