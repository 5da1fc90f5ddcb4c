/// The namespaces a table enforces, checked to be disjoint: no domain of one lies at or below a
/// domain of another (or of itself twice), and no two port ranges meet. A name outside every
/// namespace follows the table's other rules.
///
/// Group membership comes from `groupsOf` (the daemon asks the system; the table does no I/O).
public struct NamespacePolicy: Sendable {
    public let namespaces: [Namespace]
    /// The Unix groups of a principal name.
    public let groupsOf: @Sendable (String) -> Set<String>

    /// A policy of `namespaces`; throws naming the first two that overlap, or a bad name.
    public init(_ namespaces: [Namespace], groupsOf: @escaping @Sendable (String) -> Set<String> = { _ in [] }) throws(RouteError) {
        var canonical: [Namespace] = []
        var names: Set<String> = []
        for var namespace in namespaces {
            guard !namespace.name.isEmpty, names.insert(namespace.name).inserted else {
                throw .invalidArgument("namespace '\(namespace.name)' is named twice (or has no name)")
            }
            guard !namespace.domains.isEmpty else {
                throw .invalidArgument("namespace '\(namespace.name)' owns no domain")
            }
            if namespace.kind == .user, namespace.domains.count != 1 {
                throw .invalidArgument("user namespace '\(namespace.name)' has one parent domain ({user}.PARENT), not \(namespace.domains.count)")
            }
            var domains: [String] = []
            for domain in namespace.domains {
                do { domains.append(try HostNames.canonicalize(domain, as: .name)) } catch { throw .invalidName(domain, error) }
            }
            namespace.domains = domains
            canonical.append(namespace)
        }
        var owned: [(domain: String, namespace: String)] = []
        for namespace in canonical {
            for domain in namespace.domains {
                if let clash = owned.first(where: { Self.isAtOrBelow($0.domain, domain) || Self.isAtOrBelow(domain, $0.domain) }) {
                    throw .invalidArgument("namespace '\(namespace.name)' owns \(domain), which overlaps \(clash.domain) of namespace '\(clash.namespace)': namespaces never overlap")
                }
                owned.append((domain, namespace.name))
            }
        }
        for (i, a) in canonical.enumerated() {
            guard let ports = a.tcpPorts else { continue }
            for b in canonical[(i + 1)...] {
                if let other = b.tcpPorts, ports.overlaps(other) {
                    throw .invalidArgument("namespace '\(a.name)' has TCP ports \(ports.lowerBound)-\(ports.upperBound), which overlap \(other.lowerBound)-\(other.upperBound) of namespace '\(b.name)'")
                }
            }
        }
        self.namespaces = canonical
        self.groupsOf = groupsOf
    }

    /// Whether `name` is `domain` or lies below it.
    static func isAtOrBelow(_ name: String, _ domain: String) -> Bool {
        name == domain || name.hasSuffix("." + domain)
    }

    /// Where a host name lies: the namespace, and for a user namespace the member whose subtree
    /// it is in (nil: the parent itself).
    struct Place: Equatable {
        var index: Int
        var domain: String
        var member: String?
    }

    /// The namespace `name` lies in, if any.
    func place(of name: String) -> Place? {
        for (index, namespace) in namespaces.enumerated() {
            for domain in namespace.domains where Self.isAtOrBelow(name, domain) {
                guard namespace.kind == .user, name != domain else { return Place(index: index, domain: domain, member: nil) }
                // The label right below the parent names the member whose subtree it is.
                let below = name.dropLast(domain.utf8.count + 1)
                let member = below.split(separator: ".").last.map(String.init)
                return Place(index: index, domain: domain, member: member)
            }
        }
        return nil
    }

    /// The namespace whose port range holds `port`, if any.
    func index(ofPort port: UInt16) -> Int? {
        namespaces.firstIndex { $0.tcpPorts?.contains(port) ?? false }
    }

    /// Whether `principal` belongs to namespace `index` (admins of it included).
    func isMember(_ principal: String, of index: Int) -> Bool {
        let namespace = namespaces[index]
        if namespace.users.contains(principal) || namespace.admins.contains(principal) { return true }
        return !namespace.groups.isEmpty && !namespace.groups.isDisjoint(with: groupsOf(principal))
    }

    /// Whether `principal` administers namespace `index`.
    func isAdmin(_ principal: String, of index: Int) -> Bool {
        namespaces[index].admins.contains(principal)
    }

    /// The namespaces `principal` belongs to, in order.
    func memberships(of principal: String) -> [Int] {
        namespaces.indices.filter { isMember(principal, of: $0) }
    }
}

extension NamespacePolicy {
    /// A digest of the namespaces' rules (not of who holds what): equal on two daemons exactly
    /// when they enforce the same namespaces, whatever order or spelling their files use. Daemons
    /// sharing a store compare it. FNV-1a over a canonical text: it tells configurations apart,
    /// it is no security check.
    public var digest: String {
        var text = ""
        for n in namespaces.sorted(by: { $0.name < $1.name }) {
            func quota(_ q: Namespace.Quota) -> String {
                "\(q.routes.map(String.init) ?? "-"),\(q.tcpPorts.map(String.init) ?? "-"),\(q.longestTTL.map { "\($0.components.seconds)" } ?? "-"),"
                    + (q.sessionRoutes.map(String.init) ?? "-")
            }
            text += [n.name, n.kind.rawValue, n.domains.joined(separator: ","),
                     n.tcpPorts.map { "\($0.lowerBound)-\($0.upperBound)" } ?? "-",
                     n.users.sorted().joined(separator: ","), n.groups.sorted().joined(separator: ","),
                     n.admins.sorted().joined(separator: ","), quota(n.quota), quota(n.memberQuota)].joined(separator: "|") + "\n"
        }
        return Self.fnv1a(text)
    }

    /// The digest of no namespaces at all.
    public static let noneDigest = fnv1a("")

    static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
