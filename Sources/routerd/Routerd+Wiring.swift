import ConfigFile
import DNSWire
import DomainRouter
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import RouterDNS
import RouterEngine
import RouterHTTP
import RouterEtcd
import RouterEtcdStore
import NIOPosix
import RouterRedis
import RouterRedisStore
import RouterSQLiteStore
import RouterServer
import ServiceLifecycle
import ServiceNotify
import UnixSignals

/// How routerd's parts are put together from its flags: the table, the store (memory, the
/// state file, Redis or etcd), the socket server and its sweeper, the HTTP API, the SIGHUP reloads —
/// each a `Service` of the group `run()` starts.
extension Routerd {
    /// The services to run, in start order; throws `StartError` naming the flag and the cause
    /// when a part cannot be set up.
    func wire(logger: Logger, hangups: UnixSignalsSequence, levels: LogLevelSwitch,
              notifier: SystemdNotifier?) async throws -> [ServiceGroupConfiguration.ServiceConfiguration] {
        try checkBeforeStart()
        let configuration = try serverConfiguration()
        // The file was read and checked before the flags were parsed; read again here for the
        // reloads to compare with (a file changed in between is what the next SIGHUP reads).
        let file: (file: ConfigFile, commandLine: [String])?
        if let config {
            do {
                file = (try ConfigFile.read(config, keys: Self.configKeys), Array(CommandLine.arguments.dropFirst()))
            } catch {
                throw StartError("--config: \(error)")
            }
        } else {
            file = nil
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        let server: RouterServer
        if let store, isEtcdStore {
            let table = try RouterServer.makeTable(configuration)
            let shared: EtcdStore
            do {
                shared = try EtcdStore(table: table, etcd: try etcdConfiguration(store), prefix: storePrefix, grace: configuration.grace,
                                       logLength: storeLogLength, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
            } catch let error as StartError {
                throw error
            } catch {
                throw StartError("--store \(store): \(error)")
            }
            do {
                try await shared.open()
            } catch {
                await shared.stop()
                throw StartError("cannot open --store \(store) (\(shared.location)): \(error)")
            }
            services.append(.init(service: shared))
            server = try RouterServer(configuration: configuration, store: shared, logger: logger)
        } else if let store {
            let table = try RouterServer.makeTable(configuration)
            let redis = try RedisConfiguration(url: store, password: try redisPassword())
            let shared = RedisStore(table: table, redis: redis, prefix: storePrefix, grace: configuration.grace,
                                    logLength: storeLogLength, logger: logger)
            do {
                try await shared.open()
            } catch {
                await shared.stop()
                throw StartError("cannot open --store \(store) (\(shared.location)): \(error)")
            }
            services.append(.init(service: shared))
            server = try RouterServer(configuration: configuration, store: shared, logger: logger)
        } else if let db {
            let table = try RouterServer.makeTable(configuration)
            let retention = HistoryRetention(age: historyRetention.duration, rows: historyRows)
            let state: SQLiteStore
            do {
                state = try SQLiteStore.open(path: db, table: table, sync: sync.sqlite, grace: configuration.grace,
                                             retention: retention, holdReleased: holdReleased.duration, logger: logger)
            } catch {
                throw StartError("\(error)")
            }
            services.append(.init(service: state))
            server = try RouterServer(configuration: configuration, store: state, logger: logger)
        } else {
            server = try RouterServer(configuration: configuration, logger: logger)
        }
        var digest = NamespacePolicy.noneDigest
        if let file = file?.file {
            do {
                if let policy = try Self.namespaces(in: file) {
                    server.table.setNamespaces(policy)
                    digest = policy.digest
                    logger.notice("namespaces in force: \(policy.namespaces.map(\.name).joined(separator: ", "))", metadata: ["digest": "\(digest)"])
                }
            } catch {
                throw StartError("--config: \(error)")
            }
        }
        // Daemons sharing a store compare what they enforce (a store of one ignores it).
        server.executor.store.publishConfigDigest(digest)
        services += [.init(service: server.sweeper), .init(service: server)]
        var api: HTTPAPI?
        if let http, let httpTokens {
            let (application, served) = try httpAPI(at: http, tokens: httpTokens, server: server, logger: logger)
            services.append(.init(service: application))
            api = served
        }
        if let dns {
            let zones: DNSZones
            do { zones = try dnsZonesConfiguration() } catch { throw StartError("--dns: \(error)") }
            let executor = server.executor
            var keys: [TSIGKey] = []
            if let dnsTsigKeys {
                do {
                    keys = try TSIGKeyFile.parse(try String(contentsOfFile: dnsTsigKeys, encoding: .utf8))
                } catch {
                    throw StartError("--dns-tsig-keys \(dnsTsigKeys): \(error)")
                }
                guard !keys.isEmpty else { throw StartError("--dns-tsig-keys \(dnsTsigKeys) holds no key") }
            }
            // Transfers and NOTIFY need the zones as a secondary holds them, kept as routes change.
            var follower: DNSZoneFollower?
            if !dnsNotify.isEmpty || !dnsTransferAllow.isEmpty || dnsUpdate != nil {
                let made = DNSZoneFollower(table: server.table, zones: zones, instance: { executor.instance }, logger: logger)
                made.rebuild()
                services.append(.init(service: made))
                follower = made
            }
            let authority = DNSAuthority(zones: zones, table: server.table, instance: { executor.instance }, metrics: executor.metrics,
                                         follower: follower, transferAllowed: dnsTransferAllow.compactMap { try? CIDR($0) }, keys: keys)
            executor.serveDNS(authority)
            let dnsServer = DNSServer(authority: authority, host: dns.host, port: dns.port, rateLimit: dnsRateLimit, logger: logger)
            do { _ = try await dnsServer.bind() } catch { throw StartError("cannot serve DNS on --dns \(dns): \(error)") }
            services.append(.init(service: dnsServer))
            if let dnsUpdate, let follower {
                guard let (host, port) = DNSTarget.parse(dnsUpdate), let address = try? SocketAddress(ipAddress: host, port: port) else {
                    throw StartError("--dns-update '\(dnsUpdate)' is not an address such as 192.0.2.53 or 192.0.2.53:5353")
                }
                let zone = try dnsUpdateZone.map { (text: String) throws(StartError) -> DNSName in
                    do { return try DNSName(text) } catch { throw StartError("--dns-update-zone: \(error)") }
                } ?? (try? DNSName(dnsZones.first ?? domains.first ?? "localhost")) ?? zones.zones[0]
                services.append(.init(service: DNSUpdater(server: address, zone: zone, key: keys.first, owner: dnsUpdateOwner,
                                                          authority: authority, follower: follower, logger: logger)))
            }
            if !dnsNotify.isEmpty, let follower {
                var targets: [SocketAddress] = []
                for text in dnsNotify {
                    guard let (host, port) = DNSTarget.parse(text), let address = try? SocketAddress(ipAddress: host, port: port) else {
                        throw StartError("--dns-notify '\(text)' is not an address such as 192.0.2.53 or [2001:db8::53]:5353")
                    }
                    targets.append(address)
                }
                // An in-memory routerd's revisions start again at each start: ask the secondaries
                // which serial they hold, so that ours goes on above it.
                let notifier = DNSNotifier(targets: targets, key: keys.first, authority: authority,
                                           probeSerials: store == nil && db == nil, logger: logger)
                follower.onChange { notifier.changed($0) }
                services.append(.init(service: notifier))
            }
        }
        let settings = Hangup.Settings(logLevel: logLevel.level, logFile: logFile, httpTokens: httpTokens)
        let store = server.executor.store
        services.append(.init(service: Hangup(signals: hangups, running: settings, config: file, api: api, table: server.table,
                                              publishDigest: { store.publishConfigDigest($0) },
                                              levels: levels, notifier: notifier, logger: logger)))
        // Last, so that graceful shutdown reaches it first: STOPPING=1 before anything stops.
        if let notifier {
            let status = "serving \(configuration.table.baseDomains.joined(separator: ", ")) on \(configuration.socketPath)"
            services.append(.init(service: SystemdNotifyService(notifier: notifier, status: status, logger: logger) {
                await server.waitUntilListening()
            }))
        }
        return services
    }

    /// The zones `--dns` answers for, from the `--dns-*` flags (the base domains when no
    /// `--dns-zone` is given).
    func dnsZonesConfiguration() throws(DNSError) -> DNSZones {
        let zones = dnsZones.isEmpty ? (domains.isEmpty ? ["localhost"] : domains) : dnsZones
        let nameservers = dnsNameservers.map { text -> (name: String, addresses: [String]) in
            guard let eq = text.firstIndex(of: "=") else { return (text, []) }
            return (String(text[..<eq]), text[text.index(after: eq)...].split(separator: ",").map(String.init))
        }
        return try DNSZones(zones: zones, nameservers: nameservers, hostmaster: dnsHostmaster, addresses: dnsAddresses,
                            ttl: UInt32(dnsTtl.duration.components.seconds), negativeTTL: UInt32(dnsNegativeTtl.duration.components.seconds))
    }

    /// What can be checked before anything starts is, so that the failure names its flag.
    func checkBeforeStart() throws(StartError) {
        if let http, let problem = StartChecks.listenProblem(flag: "--http", host: http.host, port: http.port) {
            throw StartError(problem)
        }
        if let dns, let problem = StartChecks.listenProblem(flag: "--dns", host: dns.host, port: dns.port) {
            throw StartError(problem)
        }
        if let dnsTsigKeys, let problem = StartChecks.secretProblem(flag: "--dns-tsig-keys", path: dnsTsigKeys) {
            throw StartError(problem)
        }
        for (flag, path) in [("--http-tokens", httpTokens), ("--http-tls-cert", httpTLSCert), ("--http-tls-key", httpTLSKey)] {
            if let path, let problem = StartChecks.unreadable(flag: flag, path: path) { throw StartError(problem) }
        }
    }

    /// The HTTP API on `address` as a Hummingbird `Application` (a Service), over the socket
    /// server's executor, with TLS when --http-tls-cert is given.
    func httpAPI(at address: ListenAddress, tokens path: String, server: RouterServer,
                 logger: Logger) throws(StartError) -> (any Service, HTTPAPI) {
        let tokens: HTTPTokens
        do { tokens = try HTTPTokens(path: path) } catch { throw StartError("\(error)") }
        let watchers = HTTPWatchers(
            eventLimit: server.configuration.watcherBuffer, byteLimit: server.configuration.watcherBufferBytes,
            started: { [server] in server.watcherStarted() },
            ended: { [server] in
                server.watcherEnded()
                server.memoryFreed()  // what its writes held, after a cut: given back once the connection is gone
            },
            cut: { [server] in
                server.executor.metrics.slowConsumerCut()
                server.memoryFreed()
            })
        let api = HTTPAPI(executor: server.executor, tokens: tokens, logger: logger, maximumBody: maxLine, watchers: watchers,
                          auditsChanges: auditLog == .changes,
                          counts: { [server] in
                              let (connections, watchers) = server.counts
                              return (connections, watchers, server.httpConnectionCount)
                          },
                          stats: { [server] in server.statsObject(for: $0) })
        let channel = HTTP1Channel.Configuration(
            additionalChannelHandlers: [HTTPAPI.connectionGuard(headerTimeout: .milliseconds(httpHeaderTimeout.milliseconds),
                                                                admit: { [server] in server.httpConnectionOpened() },
                                                                release: { [server] in server.httpConnectionClosed() })],
            idleTimeout: .milliseconds(httpIdleTimeout.milliseconds))
        var builder: HTTPServerBuilder = .http1(configuration: channel)
        if let httpTLSCert, let httpTLSKey {
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(httpTLSCert)
                let key = try NIOSSLPrivateKey(file: httpTLSKey, format: .pem)
                let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
                builder = try .tls(.http1(configuration: channel), tlsConfiguration: tls)
            } catch {
                let cause: String
                switch error as? NIOSSLError {
                case .failedToLoadCertificate?: cause = "--http-tls-cert \(httpTLSCert) holds no PEM certificate"
                case .failedToLoadPrivateKey?: cause = "--http-tls-key \(httpTLSKey) holds no PEM private key"
                default: cause = "\(error)"
                }
                throw StartError("cannot serve HTTPS with --http-tls-cert \(httpTLSCert) and --http-tls-key \(httpTLSKey): \(cause)")
            }
        } else if !["127.0.0.1", "::1", "localhost"].contains(address.host) {
            logger.warning("the HTTP API listens on \(address) without TLS: tokens and routes cross the network in the clear (--http-tls-cert, --http-tls-key)")
        }
        var httpLogger = logger
        httpLogger.logLevel = max(logLevel.level, .notice)
        let (host, port) = (address.host, address.port)
        let application = Application(
            router: api.router(),
            server: builder,
            // The listen backlog follows --max-connections, as the socket's does.
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "routerd",
                                                    backlog: max(maxConnections, 128)),
            onServerRunning: { [logger, scheme = httpTLSCert == nil ? "http" : "https"] channel in
                let bound = channel.localAddress.map { "\($0.ipAddress ?? host):\($0.port ?? port)" } ?? "\(host):\(port)"
                logger.notice("HTTP API listening on \(scheme)://\(bound)", metadata: ["http": "\(bound)"])
            },
            logger: httpLogger)
        return (application, api)
    }
}

extension Routerd {
    /// Makes NIO's shared event loops (which the socket, the HTTP API, DNS and the stores'
    /// connections use) the threads Swift's tasks run on, before any task is made: a change then
    /// goes from a connection to the store's writer, to Redis or etcd and back without waking a
    /// thread of another pool at each step. On two cores that is the difference between the
    /// daemon's threads waiting for one another and a core sitting idle, and the threads
    /// being busy. Nothing in routerd blocks a task's thread (the state file's SQLite calls and
    /// the table writer have threads of their own, and a store's load runs on NIO's blocking
    /// pool). NIO finds the runtime's hook by `dlsym`: in a build with the Swift runtime linked
    /// statically it is hidden, and tasks stay on the runtime's own pool, as before.
    static func runTasksOnEventLoops() {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
