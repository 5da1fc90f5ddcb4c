/// Who is asking. Admins (the gateway, root, the daemon's own user) skip ownership, reserved-name
/// and port-range checks; users own what they create and see only their own routes' details.
public enum Principal: Hashable, Sendable, CustomStringConvertible {
    case admin(String)
    case user(String)

    /// The name recorded as the owner of routes this principal creates.
    public var name: String {
        switch self {
        case .admin(let name), .user(let name): return name
        }
    }

    /// Whether the principal is an admin (skips ownership, reserved-name and port-range checks).
    public var isAdmin: Bool {
        if case .admin = self { return true }
        return false
    }

    /// The text for a person: messages and logs.
    public var description: String { isAdmin ? "\(name) (admin)" : name }
}
