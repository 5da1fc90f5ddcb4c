import ArgumentParser
import DNSWire
import DomainRouter
import Logging
import NIOCore
import RouterProtocol
import RouterEtcd
import RouterRedis
import RouterServer
import ServiceLifecycle
import ServiceNotify
import UnixSignals
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

@main
struct Routerd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routerd",
        abstract: "Keep the route table of a tunnel gateway and serve it on a Unix socket.",
        discussion: """
            routerd maps public names and ports to tunnel sessions (foo.example.com, \
            *.foo.example.com, tcp:49000, uuid:ID) and speaks newline-delimited JSON on a Unix \
            socket (protocol v1, docs/protocol.md). The table lives in memory (a restart empties it), \
            with --db in a SQLite state file with its change history (a restart keeps it), or \
            with --store in Redis or etcd, shared by every routerd on that store and prefix.

            With no flags it serves names under 'localhost' on the default socket, which works for \
            a first try: talk to it with 'socat - UNIX-CONNECT:PATH', one JSON request per line.

            Drive it with routerctl(1). Each connection is a session: routes added with \
            "session":true go --grace after it closes unless the client resumes. Peers are \
            identified by SO_PEERCRED: root, routerd's own user and --admin-group members are \
            admins; every other user owns the routes it adds and sees only those. routerd(8) \
            has the whole manual.

            PROTOCOL (v1, one JSON object per line; docs/protocol.md has every field):
              hello ping add delete lookup list watch cancel touch batch stats
              history holds describe
              request  {"id":1,"op":"add","key":"foo","tunnel":"t1","ttl":300}
              success  {"id":1,"ok":true,"revision":N,"result":{...}}
              failure  {"id":1,"ok":false,"error":{"code":"conflict",...}}
              stream   {"id":1,"route":{...}} (list), {"id":1,"event":{...}} (watch)

            CONFIGURATION FILE (--config FILE, YAML): one key a flag, without its dashes:
              domain: [example.com, example.net]
              grace: 30s
            A flag on the command line overrides its key. One key is no flag: 'namespaces', \
            teams and per-user subtrees with quotas (routerd(8), README). --check-config FILE \
            checks a file and prints each problem as FILE:LINE:COLUMN: what. On SIGHUP, \
            log-level, log-file, http-tokens and namespaces apply at once; other changed keys \
            wait for a restart (logged), and a file with a problem keeps the running \
            configuration.

            SIGNALS:
              SIGINT, SIGTERM  stop accepting, end each watch with unavailable,
                               answer what was read, remove the socket file, exit 0
              SIGHUP           read --config again, reopen --log-file, read
                               --http-tokens again

            FILES:
              /run/routerd/routerd.sock        the default socket for root
              $XDG_RUNTIME_DIR/routerd.sock    the default socket for other users
              /tmp/routerd-UID/routerd.sock    the default without XDG_RUNTIME_DIR

            ENVIRONMENT:
              ROUTER_SOCKET          the socket path when --socket is not given
              ROUTER_REDIS_PASSWORD  the Redis password for --store
              ROUTER_ETCD_USER, ROUTER_ETCD_PASSWORD
                                     the etcd user and password for --store etcd://…
              NOTIFY_SOCKET          systemd's (Type=notify): READY=1 once the socket
                                     answers, RELOADING=1, STOPPING=1, WATCHDOG=1

            EXIT STATUS:
              0   stopped by SIGINT or SIGTERM
              1   it cannot start: another routerd answers on the socket, the path
                  is too long or not a socket, an unknown group, a --store that
                  cannot be opened, a --db in use, damaged or too new
              64  a bad command line
              65  a bad configuration file (--config, --check-config)

            EXAMPLES:
              routerd
              routerd --domain example.com --domain example.net --grace 30s
              routerd --socket-group gateway --admin-group gateway
              routerd --db /var/lib/routerd/state.db --hold-released 1h
              routerd --store redis://10.0.0.9:6379 --store-prefix prod
              routerd --store etcd://10.0.0.11:2379,10.0.0.12:2379,10.0.0.13:2379
              routerd --config /etc/routerd/routerd.yaml
              routerd --check-config /etc/routerd/routerd.yaml
            """,
        version: RouterServer.version
    )

    @Option(name: .customLong("config"), help: ArgumentHelp("Read settings from this YAML file: one key a flag, named as the flag without its dashes ('grace: 30s', 'domain: [example.com, example.net]'). A flag given on the command line overrides its key. SIGHUP reads the file again.", valueName: "file"), completion: .file(extensions: ["yaml", "yml"]))
    var config: String?

    @Option(name: .customLong("check-config"), help: ArgumentHelp("Check this configuration file as routerd would start with it and exit: 0 and 'FILE: OK', or each problem as FILE:LINE:COLUMN: what, and 65.", valueName: "file"), completion: .file(extensions: ["yaml", "yml"]))
    var checkConfig: String?

    @Option(name: .customLong("socket"), help: ArgumentHelp(
        "The Unix socket to listen on (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).",
        valueName: "path"))
    var socketOption: String?

    var socket: String { socketOption ?? DefaultSocket.path }

    @Option(name: .customLong("domain"), help: ArgumentHelp("A base domain; repeat for several. Bare labels go under the only one.", valueName: "name"))
    var domains: [String] = []

    @Option(help: ArgumentHelp("Labels under a base domain that only admins may take, comma-separated.", valueName: "labels"))
    var reserved: String = RouteTableConfiguration.defaultReservedLabels.sorted().joined(separator: ",")

    @Option(help: ArgumentHelp("Length of random subdomains.", valueName: "n"))
    var randomLength: Int = 10

    @Option(help: ArgumentHelp("Ports users may claim and tcp:auto picks from.", valueName: "low-high"))
    var tcpPorts = PortRange(49000...49999)

    @Option(help: ArgumentHelp("How long a closed connection's session routes live on: 500ms, 5s, 2m, 1h30m.", valueName: "duration"))
    var grace = DurationArgument(.seconds(5), as: "5s")

    @Option(help: ArgumentHelp("The longest request line in bytes.", valueName: "bytes"))
    var maxLine: Int = 64 * 1024

    @Option(help: ArgumentHelp("The most connections served at once, socket and HTTP together; also the listen backlog of the socket and of --http, so a burst of that many connects is accepted (the kernel caps the backlog at net.core.somaxconn).", valueName: "n"))
    var maxConnections: Int = 4096

    @Option(help: ArgumentHelp("Event loop threads (default: one per core). Changes to the table are serialized, so a write-heavy daemon on few cores may do better with 1; long runs of pipelined adds (bulk loads) go to one more thread, the table writer.", valueName: "n"))
    var threads: Int?

    @Option(help: ArgumentHelp("A watcher whose unread backlog stays above this many events for 2 s, or at once passes 16 times this (and at least 131,072), is sent slow_consumer and disconnected.", valueName: "n"))
    var watcherBuffer: Int = 4096

    @Option(help: ArgumentHelp("A watcher whose unread backlog passes this many bytes is sent slow_consumer and disconnected at once: the most memory one watcher that does not read can hold (k, m and g suffixes).", valueName: "bytes"))
    var watcherBufferBytes = ByteSize(32 << 20, as: "32m")


    @Option(help: ArgumentHelp("Members of this group are admins (besides root and routerd's own user).", valueName: "group"))
    var adminGroup: String?

    @Option(help: ArgumentHelp("The socket file's mode, in octal.", valueName: "mode"))
    var socketMode = OctalMode(0o660, as: "0660")

    @Option(help: ArgumentHelp("The socket file's group.", valueName: "group"))
    var socketGroup: String?

    @Option(name: .customLong("allow-target"), help: ArgumentHelp("A CIDR block users' targets may point into; repeat for several.", valueName: "cidr"))
    var allowTargets: [String] = []

    @Option(name: .customLong("http"), help: ArgumentHelp("Serve the HTTP API (docs/http.md) on this port, on 127.0.0.1 unless a host is given (port 0: one the kernel picks, named in the log). Needs --http-tokens.", valueName: "[host:]port"))
    var http: ListenAddress?

    @Option(name: .customLong("http-tokens"), help: ArgumentHelp("The HTTP API's bearer tokens: one a line, PRINCIPAL TOKEN [admin]; # comments. Not readable by group or others. SIGHUP reads it again.", valueName: "file"))
    var httpTokens: String?

    @Option(name: .customLong("http-tls-cert"), help: ArgumentHelp("Serve the HTTP API over TLS (HTTPS) with this certificate chain (PEM). Needs --http-tls-key.", valueName: "pem"))
    var httpTLSCert: String?

    @Option(name: .customLong("http-tls-key"), help: ArgumentHelp("The TLS certificate's private key (PEM).", valueName: "pem"))
    var httpTLSKey: String?

    @Option(help: ArgumentHelp("An HTTP connection that has not sent a whole request head this long after it opened (a client trickling its headers, or sending nothing) is closed.", valueName: "duration"))
    var httpHeaderTimeout = DurationArgument(.seconds(10), as: "10s")

    @Option(help: ArgumentHelp("A kept-alive HTTP connection with no request this long after its last response is closed (also the most a request head may take on it). Watches stream on.", valueName: "duration"))
    var httpIdleTimeout = DurationArgument(.seconds(60), as: "60s")


    @Option(name: .customLong("dns"), help: ArgumentHelp("Answer DNS for the zones (UDP and TCP) on this port, on 127.0.0.1 unless a host is given (port 0: one the kernel picks, named in the log): a name resolves exactly while it is routed. Needs --dns-address and --dns-ns.", valueName: "[host:]port"))
    var dns: ListenAddress?

    @Option(name: .customLong("dns-zone"), help: ArgumentHelp("A zone to answer for; repeat for several. Default: the base domains (--domain). Names in no zone are REFUSED.", valueName: "name"))
    var dnsZones: [String] = []

    @Option(name: .customLong("dns-address"), help: ArgumentHelp("An address every routed name resolves to (A or AAAA): the gateway's; repeat for several.", valueName: "ip"))
    var dnsAddresses: [String] = []

    @Option(name: .customLong("dns-ns"), help: ArgumentHelp("A name server of the zones (their NS records; the first is the SOA's primary); repeat for several. One inside a zone needs its addresses: NAME=IP[,IP].", valueName: "name[=ip,...]"))
    var dnsNameservers: [String] = []

    @Option(name: .customLong("dns-rate-limit"), help: ArgumentHelp("At most this many UDP answers a second to one client network (IPv4 /24, IPv6 /56); past it every second answer goes out empty and truncated (the client retries over TCP) and the rest are dropped, so routerd cannot be used to flood a forged address. Default: no limit.", valueName: "n"))
    var dnsRateLimit: Int?

    @Option(name: .customLong("dns-update"), help: ArgumentHelp("Keep --dns-update-zone on this primary in step by RFC 2136 UPDATE (signed with the first --dns-tsig-keys key), port 53 unless given; routerd marks the names it creates with a TXT record and touches no other.", valueName: "ip[:port]"))
    var dnsUpdate: String?

    @Option(name: .customLong("dns-update-zone"), help: ArgumentHelp("The zone --dns-update keeps: one of the zones routerd answers for. Default: the first --dns-zone (or --domain).", valueName: "name"))
    var dnsUpdateZone: String?

    @Option(name: .customLong("dns-update-owner"), help: ArgumentHelp("The owner id in the TXT mark of the names this routerd creates (heritage=routerd,routerd/owner=ID), so that several routerd can share a zone.", valueName: "id"))
    var dnsUpdateOwner = "routerd"

    @Option(name: .customLong("dns-notify"), help: ArgumentHelp("A secondary to send NOTIFY to when a zone changes (port 53 unless given); repeat for several. It transfers the zone from --dns.", valueName: "ip[:port]"))
    var dnsNotify: [String] = []

    @Option(name: .customLong("dns-transfer-allow"), help: ArgumentHelp("Addresses that may transfer the zones (AXFR, IXFR over TCP); repeat for several. With --dns-tsig-keys, only when signed with one of its keys.", valueName: "cidr"))
    var dnsTransferAllow: [String] = []

    @Option(name: .customLong("dns-tsig-keys"), help: ArgumentHelp("TSIG keys (HMAC-SHA256) in BIND's format, as tsig-keygen writes them: transfers must be signed with one; NOTIFY is signed with the first. Not readable by group or others.", valueName: "file"))
    var dnsTsigKeys: String?

    @Option(help: ArgumentHelp("The SOA's contact, as hostmaster@example.com. Default: hostmaster@ZONE.", valueName: "email"))
    var dnsHostmaster: String?

    @Option(help: ArgumentHelp("The TTL of A, AAAA and NS answers: how long a cache may still resolve a deleted route.", valueName: "duration"))
    var dnsTtl = DurationArgument(.seconds(30), as: "30s")

    @Option(help: ArgumentHelp("The SOA minimum and its TTL: how long a cache keeps \"no such name\" (RFC 2308), so how soon a new route resolves everywhere.", valueName: "duration"))
    var dnsNegativeTtl = DurationArgument(.seconds(30), as: "30s")

    @Option(name: .customLong("store"), help: ArgumentHelp("Keep the table in Redis or etcd, shared by every routerd on the same store and --store-prefix: redis://[USER@]HOST:PORT[/DB], redis+unix:///PATH[?db=N], or etcd://HOST:PORT[,HOST:PORT…] (etcds:// for TLS). The Redis password comes from $ROUTER_REDIS_PASSWORD, etcd's user and password from $ROUTER_ETCD_USER and $ROUTER_ETCD_PASSWORD, or either from --store-password-file. Default: the table lives in this process's memory.", valueName: "url"))
    var store: String?

    @Option(help: ArgumentHelp("The name the table's keys start with (Redis: {NAME}:…, etcd: NAME/…), so that several tables can share one store.", valueName: "name"))
    var storePrefix: String = "router"

    @Option(help: ArgumentHelp("A file whose first line is the Redis password (instead of $ROUTER_REDIS_PASSWORD), or for etcd USER:PASSWORD (instead of $ROUTER_ETCD_USER and $ROUTER_ETCD_PASSWORD). Not readable by group or others.", valueName: "file"))
    var storePasswordFile: String?

    @Option(help: ArgumentHelp("With --store etcds://, a PEM file of the certificate authorities that sign the etcd members' certificates (default: the system's).", valueName: "file"), completion: .file())
    var storeCa: String?

    @Option(help: ArgumentHelp("With --store etcds://, a PEM client certificate for members that ask for one (with --store-key).", valueName: "file"), completion: .file())
    var storeCert: String?

    @Option(help: ArgumentHelp("The private key (PEM) of --store-cert. Not readable by group or others.", valueName: "file"), completion: .file())
    var storeKey: String?

    @Option(help: ArgumentHelp("About how many changes the store's log keeps: how far back a watch can resume on any routerd, and how many changes a routerd may miss (stopped, cut off) and still catch up without loading the table again. At most 65536.", valueName: "n"))
    var storeLogLength: Int = 65536

    @Option(name: .customLong("db"), help: ArgumentHelp("Keep the table and its change history in this SQLite state file (created mode 0600, WAL), so that a restart keeps every route, the revisions and the daemon's identity. A change is answered once it is in the file. Not with --store. Default: the table lives in this process's memory.", valueName: "path"), completion: .file())
    var db: String?

    @Option(help: ArgumentHelp("With --db, what an answered change survives: routerd's death (normal), or also the machine's, each commit synced to disk (full).", valueName: "level"))
    var sync = SyncLevel.normal

    @Option(help: ArgumentHelp("With --db: how long the change history keeps a change (30d, 12h, …).", valueName: "duration"))
    var historyRetention = DurationArgument(.seconds(30 * 86_400), as: "30d")

    @Option(help: ArgumentHelp("With --db: the most changes the history keeps (the oldest go first).", valueName: "n"))
    var historyRows: Int = 10_000_000

    @Option(help: ArgumentHelp("With --db: when a route lapses (its TTL runs out, or its session's grace), keep its name this long for its owner, who gets it back with a plain add; anyone else but an admin gets conflict. 0 keeps nothing.", valueName: "duration"))
    var holdReleased = DurationArgument(.zero, as: "0")

    @Option(help: ArgumentHelp("How much the log says.", valueName: "level"))
    var logLevel = LogLevel(.info)

    @Option(help: ArgumentHelp("Write the log to this file (appended; created mode 0640) instead of standard error; SIGHUP opens it again, for logrotate.", valueName: "path"))
    var logFile: String?

    @Option(help: ArgumentHelp("Whether every add, update, delete and expire is a line in the log at notice, the audit trail (changes), or none is (with --db, its history records every change).", valueName: "changes|none"))
    var auditLog = AuditLog.changes

    /// The rules between flags (each value was checked as it was read).
    func validate() throws {
        guard maxLine >= 256 else { throw ValidationError("--max-line must be at least 256 bytes") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be between 1 and 256") }
        guard watcherBuffer >= 1 else { throw ValidationError("--watcher-buffer must be at least 1") }
        guard watcherBufferBytes.bytes >= 64 * 1024 else {
            throw ValidationError("--watcher-buffer-bytes '\(watcherBufferBytes)' is under 64k: give a size such as 32m")
        }
        if http != nil {
            guard httpTokens != nil else { throw ValidationError("--http needs --http-tokens FILE: the API takes only bearer tokens") }
        } else if httpTokens != nil || httpTLSCert != nil || httpTLSKey != nil {
            throw ValidationError("--http-tokens, --http-tls-cert and --http-tls-key go with --http")
        }
        for (flag, value) in [("--http-header-timeout", httpHeaderTimeout), ("--http-idle-timeout", httpIdleTimeout)] where value.duration <= .zero {
            throw ValidationError("\(flag) must be longer than 0, such as 500ms, 10s or 2m")
        }
        guard (httpTLSCert == nil) == (httpTLSKey == nil) else {
            throw ValidationError("--http-tls-cert and --http-tls-key go together")
        }
        if dns != nil {
            guard !dnsAddresses.isEmpty else { throw ValidationError("--dns needs --dns-address IP: the address routed names resolve to (the gateway's)") }
            guard !dnsNameservers.isEmpty else { throw ValidationError("--dns needs --dns-ns NAME: the zones' name server, for their NS and SOA records") }
            for (flag, value) in [("--dns-ttl", dnsTtl), ("--dns-negative-ttl", dnsNegativeTtl)]
            where value.duration < .seconds(1) || value.duration > .seconds(86_400 * 7) {
                throw ValidationError("\(flag) must be between 1s and 7d, such as 30s")
            }
            do { _ = try dnsZonesConfiguration() } catch { throw ValidationError("--dns: \(error)") }
            if let dnsRateLimit, dnsRateLimit < 1 { throw ValidationError("--dns-rate-limit must be at least 1 answer a second") }
            for text in dnsTransferAllow {
                do { _ = try CIDR(text) } catch { throw ValidationError("--dns-transfer-allow: \(error)") }
            }
            if let dnsUpdate, DNSTarget.parse(dnsUpdate) == nil {
                throw ValidationError("--dns-update '\(dnsUpdate)' is not an address such as 192.0.2.53 or 192.0.2.53:5353")
            }
            if dnsUpdate == nil && (dnsUpdateZone != nil || dnsUpdateOwner != "routerd") {
                throw ValidationError("--dns-update-zone and --dns-update-owner go with --dns-update")
            }
            if let dnsUpdateZone, let zones = try? dnsZonesConfiguration(),
               !zones.zones.contains(where: { $0 == (try? DNSName(dnsUpdateZone))?.lowercased() }) {
                throw ValidationError("--dns-update-zone \(dnsUpdateZone) is not one of the zones routerd answers for (--dns-zone)")
            }
            guard !dnsUpdateOwner.isEmpty, dnsUpdateOwner.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "\"") }) else {
                throw ValidationError("--dns-update-owner must be printable ASCII without spaces, commas or quotes")
            }
            for text in dnsNotify where DNSTarget.parse(text) == nil {
                throw ValidationError("--dns-notify '\(text)' is not an address such as 192.0.2.53 or [2001:db8::53]:5353")
            }
        } else if !dnsZones.isEmpty || !dnsAddresses.isEmpty || !dnsNameservers.isEmpty || dnsHostmaster != nil
                    || dnsTtl.description != "30s" || dnsNegativeTtl.description != "30s" || !dnsNotify.isEmpty
                    || !dnsTransferAllow.isEmpty || dnsTsigKeys != nil || dnsRateLimit != nil || dnsUpdate != nil
                    || dnsUpdateZone != nil || dnsUpdateOwner != "routerd" {
            throw ValidationError("the --dns-* flags go with --dns")
        }
        if let store {
            if isEtcdStore {
                do {
                    _ = try EtcdConfiguration(url: store)
                } catch {
                    throw ValidationError("--store: \(error)")
                }
                if (storeCa != nil || storeCert != nil || storeKey != nil) && !store.hasPrefix("etcds://") {
                    throw ValidationError("--store-ca, --store-cert and --store-key go with --store etcds://…")
                }
                if (storeCert == nil) != (storeKey == nil) { throw ValidationError("--store-cert and --store-key go together") }
            } else {
                do {
                    _ = try RedisConfiguration(url: store)
                } catch {
                    throw ValidationError("--store: \(error)")
                }
                if storeCa != nil || storeCert != nil || storeKey != nil {
                    throw ValidationError("--store-ca, --store-cert and --store-key go with --store etcds://…")
                }
            }
            if db != nil { throw ValidationError("--db and --store name two homes for the table: with --store, the store is the state; give one") }
        } else if storePasswordFile != nil || storePrefix != "router" || storeLogLength != 65536 || storeCa != nil || storeCert != nil || storeKey != nil {
            throw ValidationError("--store-prefix, --store-password-file, --store-log-length, --store-ca, --store-cert and --store-key go with --store")
        }
        if db == nil && (sync != .normal || historyRetention.description != "30d" || historyRows != 10_000_000 || holdReleased.duration != .zero) {
            throw ValidationError("--sync, --history-retention, --history-rows and --hold-released go with --db")
        }
        guard historyRetention.duration > .zero else {
            throw ValidationError("--history-retention must be longer than 0, such as 30d or 12h")
        }
        guard historyRows >= 1000 else { throw ValidationError("--history-rows must be at least 1000") }
        guard (100...65536).contains(storeLogLength) else {
            throw ValidationError("--store-log-length must be between 100 and 65536")
        }
        guard !storePrefix.isEmpty, storePrefix.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "{") && $0 != UInt8(ascii: "}") }) else {
            throw ValidationError("--store-prefix '\(storePrefix)' must be printable ASCII without spaces or braces")
        }
    }

    /// Whether --store names an etcd cluster.
    var isEtcdStore: Bool { store.map { $0.hasPrefix("etcd://") || $0.hasPrefix("etcds://") } ?? false }

    /// The etcd cluster of --store, with its TLS files and credentials: USER:PASSWORD on the
    /// first line of --store-password-file, else $ROUTER_ETCD_USER and $ROUTER_ETCD_PASSWORD.
    func etcdConfiguration(_ url: String) throws -> EtcdConfiguration {
        var etcd = try EtcdConfiguration(url: url)
        etcd.caFile = storeCa
        etcd.certificateFile = storeCert
        etcd.keyFile = storeKey
        if storePasswordFile != nil {
            let line = try redisPassword() ?? ""
            guard let colon = line.firstIndex(of: ":") else {
                throw StartError("--store-password-file \(storePasswordFile!): for etcd, its first line is USER:PASSWORD")
            }
            etcd.user = String(line[..<colon])
            etcd.password = String(line[line.index(after: colon)...])
        } else if let user = ProcessEnvironment.value("ROUTER_ETCD_USER") {
            etcd.user = user
            etcd.password = ProcessEnvironment.value("ROUTER_ETCD_PASSWORD") ?? ""
        }
        if let key = storeKey {
            var info = stat()
            if stat(key, &info) == 0, info.st_mode & 0o077 != 0 {
                throw StartError("--store-key \(key) is readable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))): chmod 600 it")
            }
        }
        return etcd
    }

    /// The Redis password: the first line of --store-password-file (which must not be
    /// readable by others), else $ROUTER_REDIS_PASSWORD, else none.
    func redisPassword() throws -> String? {
        guard let storePasswordFile else { return ProcessEnvironment.value("ROUTER_REDIS_PASSWORD") }
        var info = stat()
        guard stat(storePasswordFile, &info) == 0 else {
            throw StartError("cannot read --store-password-file \(storePasswordFile): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw StartError("--store-password-file \(storePasswordFile) is readable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))): chmod 600 it")
        }
        guard let text = try? String(contentsOfFile: storePasswordFile, encoding: .utf8) else {
            throw StartError("cannot read --store-password-file \(storePasswordFile)")
        }
        return text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
    }

    func run() async throws {
        let level = logLevel.level
        if let logFile {
            do { try LogFile.redirectStandardError(to: logFile) } catch {
                fputs("routerd: \(error)\n", stderr)
                throw ExitCode(1)
            }
        }
        let levels = LogLevelSwitch(level)
        LoggingSystem.bootstrap { label in SwitchedLogHandler(label: label, shared: levels) }
        let logger = Logger(label: "routerd")
        // SIGHUP is trapped before any service starts, so that one sent as soon as the socket
        // answers reloads rather than ends the daemon.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let services: [ServiceGroupConfiguration.ServiceConfiguration]
        do {
            services = try await wire(logger: logger, hangups: hangups, levels: levels,
                                      notifier: SystemdNotifier.fromProcessEnvironment())
        } catch {
            fputs("routerd: \(error)\n", stderr)
            throw ExitCode(1)
        }
        if auditLog == .none && db == nil {
            logger.warning("--audit-log none without --db: changes are recorded nowhere")
        }
        // The group traps SIGTERM and SIGINT before any service starts (so a signal sent as
        // soon as the socket answers is not lost) and shuts the services down gracefully: the
        // server answers what it has read, ends watches with `unavailable` and removes its
        // socket. The server logs its "listening" line once the socket answers.
        var groupLogger = logger
        groupLogger.logLevel = .warning
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: groupLogger))
        do {
            try await group.run()
        } catch let error as IOError {
            // A listener that could not open after all (the checks passed a moment before).
            fputs("routerd: \(String(cString: strerror(error.errnoCode))) (\(error))\n", stderr)
            throw ExitCode(1)
        } catch {
            fputs("routerd: \(error)\n", stderr)
            throw ExitCode(1)
        }
    }
}

/// Why routerd cannot start, for a person.
struct StartError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum ProcessEnvironment {
    static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
