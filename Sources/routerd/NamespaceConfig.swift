import ConfigFile
import DomainRouter

/// The `namespaces` key of routerd's configuration file, read into the table's policy:
///
///     namespaces:
///       - name: web
///         kind: team                      # or user
///         domains: [web.example.com]      # a team's subtrees
///         tcp-ports: 41000-41099
///         members: {users: [alice], groups: [webdev], tokens: [ci-bot]}
///         admins: [alice]
///         quota: {routes: 100, tcp-ports: 10, session-routes: 50, longest-ttl: 24h}
///         member-quota: {routes: 20}
///       - name: home
///         kind: user
///         template: "{user}.users.example.com"
///         members: {groups: [staff]}
///
/// Every problem is named with its line; namespaces that overlap are refused.
enum NamespaceConfig {
    static let fields = ["name", "kind", "domains", "template", "tcp-ports", "members", "admins", "quota", "member-quota"]
    static let quotaFields = ["routes", "tcp-ports", "session-routes", "longest-ttl"]
    static let memberFields = ["users", "groups", "tokens"]

    /// The policy the node describes, with `groupsOf` for group membership.
    static func policy(from node: ConfigNode, path: String,
                       groupsOf: @escaping @Sendable (String) -> Set<String>) throws(ConfigProblems) -> NamespacePolicy {
        var problems: [ConfigProblem] = []
        guard let items = node.items, node.pairs == nil else {
            throw ConfigProblems([node.problem(path, "namespaces: a list of namespaces, each a mapping with a name")])
        }
        var namespaces: [(Namespace, ConfigNode)] = []
        for item in items {
            guard let pairs = item.pairs else {
                problems.append(item.problem(path, "namespaces: each namespace is a mapping (name, kind, domains, …)"))
                continue
            }
            var reader = Reader(path: path, problems: [])
            if let namespace = reader.namespace(pairs, at: item) { namespaces.append((namespace, item)) }
            problems += reader.problems
        }
        guard problems.isEmpty else { throw ConfigProblems(problems) }
        do {
            return try NamespacePolicy(namespaces.map(\.0), groupsOf: groupsOf)
        } catch {
            // Name the namespace the refusal names first.
            let message = "\(error)"
            let named = namespaces.compactMap { entry in message.range(of: "'\(entry.0.name)'").map { ($0.lowerBound, entry.1) } }
                .min { $0.0 < $1.0 }?.1 ?? node
            throw ConfigProblems([named.problem(path, "namespaces: \(error)")])
        }
    }

    /// Reads one namespace's fields, collecting problems.
    struct Reader {
        let path: String
        var problems: [ConfigProblem]

        mutating func fail(_ node: ConfigNode, _ message: String) {
            problems.append(node.problem(path, message))
        }

        mutating func namespace(_ pairs: [ConfigNode.Pair], at item: ConfigNode) -> Namespace? {
            var fields: [String: ConfigNode] = [:]
            for pair in pairs {
                guard NamespaceConfig.fields.contains(pair.key) else {
                    let hint = ConfigKey.nearest(to: pair.key, among: NamespaceConfig.fields).map { " (did you mean '\($0)'?)" } ?? ""
                    problems.append(ConfigProblem(path: path, line: pair.line, column: pair.column,
                                                  message: "namespaces: unknown field '\(pair.key)'\(hint); a namespace has \(NamespaceConfig.fields.joined(separator: ", "))"))
                    continue
                }
                fields[pair.key] = pair.value
            }
            guard let name = fields["name"]?.scalar, !name.isEmpty else {
                fail(item, "namespaces: a namespace needs a name")
                return nil
            }
            var kind = Namespace.Kind.team
            if let node = fields["kind"] {
                guard let text = node.scalar, let k = Namespace.Kind(rawValue: text) else {
                    fail(node, "namespace \(name): kind is team or user")
                    return nil
                }
                kind = k
            }
            var domains = list(fields["domains"], "namespace \(name): domains") ?? []
            switch kind {
            case .team:
                if fields["template"] != nil { fail(fields["template"]!, "namespace \(name): a template is for kind: user; a team has domains") }
                if domains.isEmpty { fail(fields["domains"] ?? item, "namespace \(name): a team owns one or more domains (domains: [team.example.com])") }
            case .user:
                if !domains.isEmpty { fail(fields["domains"]!, "namespace \(name): a user namespace has a template ('{user}.users.example.com'), not domains") }
                guard let node = fields["template"], let template = node.scalar, template.hasPrefix("{user}."),
                      template.dropFirst(7).contains(".") || !template.dropFirst(7).isEmpty else {
                    fail(fields["template"] ?? item, "namespace \(name): a user namespace needs a template such as '{user}.users.example.com'")
                    return nil
                }
                domains = [String(template.dropFirst(7))]
            }
            var ports: ClosedRange<UInt16>?
            if let node = fields["tcp-ports"] {
                if let text = node.scalar, let range = PortRange(argument: text) { ports = range.ports } else {
                    fail(node, "namespace \(name): tcp-ports is a range such as 41000-41099")
                }
            }
            var users: Set<String> = []
            var groups: Set<String> = []
            if let node = fields["members"] {
                if let pairs = node.pairs {
                    for pair in pairs {
                        guard NamespaceConfig.memberFields.contains(pair.key) else {
                            problems.append(ConfigProblem(path: path, line: pair.line, column: pair.column,
                                                          message: "namespace \(name): members are users, groups and tokens, not '\(pair.key)'"))
                            continue
                        }
                        let names = list(pair.value, "namespace \(name): members.\(pair.key)") ?? []
                        if pair.key == "groups" { groups.formUnion(names) } else { users.formUnion(names) }
                    }
                } else {
                    fail(node, "namespace \(name): members is a mapping: {users: [...], groups: [...], tokens: [...]}")
                }
            }
            let admins = Set(list(fields["admins"], "namespace \(name): admins") ?? [])
            let quota = self.quota(fields["quota"], "namespace \(name): quota")
            let memberQuota = self.quota(fields["member-quota"], "namespace \(name): member-quota")
            return Namespace(name: name, kind: kind, domains: domains, tcpPorts: ports, users: users, groups: groups,
                             admins: admins, quota: quota, memberQuota: memberQuota)
        }

        /// A list of names (one name counts as a list of one).
        mutating func list(_ node: ConfigNode?, _ what: String) -> [String]? {
            guard let node else { return nil }
            guard let items = node.items else {
                fail(node, "\(what) is a list of names")
                return nil
            }
            var names: [String] = []
            for item in items {
                guard let text = item.scalar, !text.isEmpty else {
                    fail(item, "\(what): each item is a name")
                    continue
                }
                names.append(text)
            }
            return names
        }

        mutating func quota(_ node: ConfigNode?, _ what: String) -> Namespace.Quota {
            var quota = Namespace.Quota()
            guard let node else { return quota }
            guard let pairs = node.pairs else {
                fail(node, "\(what) is a mapping: {routes: N, tcp-ports: N, session-routes: N, longest-ttl: 24h}")
                return quota
            }
            for pair in pairs {
                let value = pair.value.scalar ?? ""
                switch pair.key {
                case "routes", "tcp-ports", "session-routes":
                    guard let n = Int(value), n >= 0 else {
                        fail(pair.value, "\(what): \(pair.key) is a whole number, not '\(value)'")
                        continue
                    }
                    switch pair.key {
                    case "routes": quota.routes = n
                    case "tcp-ports": quota.tcpPorts = n
                    default: quota.sessionRoutes = n
                    }
                case "longest-ttl":
                    guard let duration = DurationArgument(argument: value)?.duration, duration > .zero else {
                        fail(pair.value, "\(what): longest-ttl is a duration such as 24h, not '\(value)'")
                        continue
                    }
                    quota.longestTTL = duration
                default:
                    problems.append(ConfigProblem(path: path, line: pair.line, column: pair.column,
                                                  message: "\(what): '\(pair.key)' is not a quota; quotas are \(NamespaceConfig.quotaFields.joined(separator: ", "))"))
                }
            }
            return quota
        }
    }
}
