import ArgumentParser
import ConfigFile
import DomainRouter

/// The keys of routerd's configuration file (`--config`): one for every flag but `--config` and
/// `--check-config`, each value checked by the flag's own parser. `GeneratedDocsTests` holds
/// this list to routerd's flags, so a new flag without a key fails the tests.
extension Routerd {
    static let configKeys: [ConfigKey] = [
        ConfigKey("socket"),
        ConfigKey("domain", repeatable: true),
        ConfigKey("reserved"),
        ConfigKey("random-length", check: valid(Int.self, "a whole number")),
        ConfigKey("tcp-ports", check: valid(PortRange.self, "a port range such as 49000-49999")),
        ConfigKey("grace", check: duration),
        ConfigKey("max-line", check: valid(Int.self, "a whole number of bytes")),
        ConfigKey("max-connections", check: valid(Int.self, "a whole number")),
        ConfigKey("threads", check: valid(Int.self, "a whole number")),
        ConfigKey("watcher-buffer", check: valid(Int.self, "a whole number of events")),
        ConfigKey("watcher-buffer-bytes", check: valid(ByteSize.self, "a size such as 32m")),
        ConfigKey("admin-group"),
        ConfigKey("socket-mode", check: valid(OctalMode.self, "a mode in octal such as 0660")),
        ConfigKey("socket-group"),
        ConfigKey("allow-target", repeatable: true),
        ConfigKey("http", check: valid(ListenAddress.self, "a port or host:port such as 127.0.0.1:8080")),
        ConfigKey("http-tokens", reload: .live),
        ConfigKey("http-tls-cert"),
        ConfigKey("http-tls-key"),
        ConfigKey("http-header-timeout", check: duration),
        ConfigKey("http-idle-timeout", check: duration),
        ConfigKey("dns", check: valid(ListenAddress.self, "a port or host:port such as 127.0.0.1:5353")),
        ConfigKey("dns-zone", repeatable: true),
        ConfigKey("dns-address", repeatable: true),
        ConfigKey("dns-ns", repeatable: true),
        ConfigKey("dns-rate-limit", check: valid(Int.self, "a whole number of answers a second")),
        ConfigKey("dns-update"),
        ConfigKey("dns-update-zone"),
        ConfigKey("dns-update-owner"),
        ConfigKey("dns-notify", repeatable: true),
        ConfigKey("dns-transfer-allow", repeatable: true),
        ConfigKey("dns-tsig-keys"),
        ConfigKey("dns-hostmaster"),
        ConfigKey("dns-ttl", check: duration),
        ConfigKey("dns-negative-ttl", check: duration),
        ConfigKey("store"),
        ConfigKey("store-prefix"),
        ConfigKey("store-password-file"),
        ConfigKey("store-ca"),
        ConfigKey("store-cert"),
        ConfigKey("store-key"),
        ConfigKey("store-log-length", check: valid(Int.self, "a whole number")),
        ConfigKey("db"),
        ConfigKey("sync", check: valid(SyncLevel.self, "normal or full")),
        ConfigKey("history-retention", check: duration),
        ConfigKey("history-rows", check: valid(Int.self, "a whole number")),
        ConfigKey("hold-released", check: duration),
        ConfigKey("log-level", reload: .live, check: valid(LogLevel.self, "a level: \(LogLevel.allValueStrings.joined(separator: ", "))")),
        ConfigKey("log-file", reload: .live),
        ConfigKey("audit-log", check: valid(AuditLog.self, "changes or none")),
        // No flag: the namespaces, their members and quotas (NamespaceConfig).
        .structured("namespaces", reload: .live),
    ]

    /// The group database every namespace check asks (one for the process).
    static let groups = UnixGroups()

    /// The namespaces `file` describes (nil: it has none); throws each problem with its line.
    static func namespaces(in file: ConfigFile) throws(ConfigProblems) -> NamespacePolicy? {
        guard let node = file["namespaces"]?.node else { return nil }
        let groups = Self.groups
        return try NamespaceConfig.policy(from: node, path: file.path) { groups.of($0) }
    }

    /// A check by `T`'s parser: the flag's own.
    static func valid<T: ExpressibleByArgument>(_: T.Type, _ what: String) -> @Sendable (String) -> String? {
        { T(argument: $0) == nil ? "is not \(what)" : nil }
    }

    static let duration = valid(DurationArgument.self, "a duration such as 500ms, 5s, 2m or 1h30m")
}
