import DomainRouter

/// Whom an answer is written for: the principal, and the namespaces shared with them (their
/// teams', those they administer), whose routes they see in full whoever owns them. Every
/// front end shapes routes through `Wire` for a viewer, so what a caller sees of another owner's
/// route is decided here once.
package struct Viewer: Sendable {
    package var principal: Principal
    /// Beside their own routes, those whose keys lie here are shown in full.
    package var sharing: NamespaceArea?

    package init(_ principal: Principal, sharing: NamespaceArea? = nil) {
        self.principal = principal
        self.sharing = sharing
    }

    /// Whether the viewer sees `route`'s target, labels and access rules: an admin, the owner,
    /// or a member of the namespace that shares it.
    package func seesInFull(_ route: Route) -> Bool {
        route.isVisible(to: principal) || (sharing?.contains(key: route.key) ?? false)
    }
}

extension RequestExecutor {
    /// `caller` as answers are written for them: with the namespaces shared with them.
    package func viewer(_ caller: Caller) -> Viewer {
        Viewer(caller.principal, sharing: sharedArea(for: caller))
    }
}
