import DomainRouter
import RouterProtocol
import Synchronization

/// What routerd's DNS answers for a name, and why: the `dns` operation (`routerctl dns`).
/// The DNS front end implements it and routerd hands it to the executor, so that the socket
/// and HTTP front ends can ask without knowing DNS (front ends never import each other).
package protocol DNSExplaining: Sendable {
    /// `{name, type, zone, resolution, via, rcode, answers, authority, serial}` for `name`
    /// asked with `type` (a mnemonic such as `A`, or `TYPEnn`).
    func explain(name: String, type: String) throws(RouteError) -> JSONValue
}

extension RequestExecutor {
    /// Makes `dns` answer with `explainer` (routerd serving `--dns`).
    package func serveDNS(_ explainer: any DNSExplaining) {
        dnsExplainer.withLock { $0 = explainer }
    }

    /// What routerd's DNS answers for `name`, as the caller may see it: a name in a namespace
    /// they do not belong to is refused as a lookup is.
    package func explainDNS(name: String, type: String?, as caller: Caller) throws(RouteError) -> JSONValue {
        guard let explainer = dnsExplainer.withLock({ $0 }) else {
            throw .invalidArgument("this routerd does not serve DNS: start it with --dns (routerd(8))")
        }
        if !caller.principal.isAdmin {
            let bare = name.hasSuffix(".") ? String(name.dropLast()) : name
            try table.checkVisible(host: bare.hasPrefix("*.") ? String(bare.dropFirst(2)) : bare, source: .name, to: caller.principal)
        }
        return try explainer.explain(name: name, type: type ?? "A")
    }
}
