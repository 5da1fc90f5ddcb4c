import ArgumentParser
import DomainRouter
import Logging
import NIOCore
import NIOPosix
import RouterGateway
import RouterProtocol
import ServiceLifecycle
import ServiceNotify

@main
struct Routergw: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routergw",
        abstract: "Route HTTP, TLS and TCP traffic by routerd's table.",
        usage: """
            routergw [--follow <socket>] [--http <[host:]port>] [--tls <[host:]port>]
                     [--tcp-address <address>] [<options>]
            """,
        discussion: """
            routergw keeps a replica of routerd's route table (--follow: it lists every route, \
            then watches, reconnecting and resuming when routerd restarts; the listeners open \
            once the table is loaded) and routes \
            connections by it: HTTP requests by their Host header (--http), TLS connections by \
            the server name of their ClientHello, passed through untouched (--tls), and TCP \
            connections to port N of --tcp-address by the route tcp:N. Traffic goes to the \
            route's target. routergw(8) has the whole manual.

            A miss is an HTTP 404, or a TCP reset for TLS and TCP; a route without a target is \
            502 (tunnel offline), a target that refuses is 502, one that does not answer within \
            --upstream-timeout is 504; a client whose address the route's allow and deny blocks \
            refuse gets 403, or a reset. HTTP requests get X-Forwarded-For, X-Forwarded-Proto and \
            X-Forwarded-Host; one log line at info says each request's host, key, status, bytes and \
            time.

            routergw must see every route's target: run it as routerd's user, as root, or as a \
            member of routerd's --admin-group.

            SIGNALS:
              SIGINT, SIGTERM  close the listeners and exit 0

            EXIT STATUS:
              0   stopped by SIGINT or SIGTERM
              1   a listener could not be opened (the port is taken, or below 1024
                  without the privilege)
              64  a bad command line, or no listener given
            """,
        version: ProductVersion.current)

    @Option(name: .customLong("follow"), help: ArgumentHelp(
        "The routerd socket whose table to follow (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).",
        valueName: "socket"))
    var follow: String?

    @Option(name: .customLong("http"), help: ArgumentHelp("Route HTTP/1.1 by Host on this port, on every IPv4 address unless a host is given.", valueName: "[host:]port"))
    var http: String?

    @Option(name: .customLong("tls"), help: ArgumentHelp("Pass TLS through by SNI on this port, on every IPv4 address unless a host is given.", valueName: "[host:]port"))
    var tls: String?

    @Option(name: .customLong("tcp-address"), help: ArgumentHelp("Serve tcp:N routes on port N of this address.", valueName: "address"))
    var tcpAddress: String?

    @Option(name: .customLong("upstream-timeout"), help: ArgumentHelp("How long a target may take to accept a connection, and to start its response once it has the whole request.", valueName: "duration"))
    var upstreamTimeout = "30s"

    @Option(name: .customLong("header-timeout"), help: ArgumentHelp("How long a new HTTP connection may take to send its first request head.", valueName: "duration"))
    var headerTimeout = "10s"

    @Option(name: .customLong("idle-timeout"), help: ArgumentHelp("How long an HTTP connection may wait between requests.", valueName: "duration"))
    var idleTimeout = "60s"

    @Option(name: .customLong("hello-timeout"), help: ArgumentHelp("How long a TLS client may take to send its ClientHello.", valueName: "duration"))
    var helloTimeout = "5s"

    @Option(name: .customLong("max-connections"), help: ArgumentHelp("Client connections open at once over all listeners; more are closed as they come.", valueName: "n"))
    var maxConnections = 10_000

    @Option(name: .customLong("max-idle-upstream"), help: ArgumentHelp("Idle connections kept per target and thread for the next request to it, from any client; 0 keeps none.", valueName: "n"))
    var maxIdleUpstream = 64

    @Option(name: .customLong("threads"), help: ArgumentHelp("Event loop threads. Default: one per core.", valueName: "n"))
    var threads: Int?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info (a line per request), notice, warning, error or critical.", valueName: "level"))
    var logLevel = "info"

    func validate() throws {
        guard http != nil || tls != nil || tcpAddress != nil else {
            throw ValidationError("nothing to serve: give --http, --tls or --tcp-address")
        }
        for (flag, value) in [("--http", http), ("--tls", tls)] {
            if let value, Self.address(value) == nil {
                throw ValidationError("\(flag) '\(value)' is not [host:]port, such as 8080 or 127.0.0.1:8080")
            }
        }
        for (flag, text) in [("--upstream-timeout", upstreamTimeout), ("--header-timeout", headerTimeout),
                             ("--idle-timeout", idleTimeout), ("--hello-timeout", helloTimeout)] {
            guard let d = DurationText.parse(text), d > .zero else {
                throw ValidationError("\(flag) '\(text)' is not a duration such as 500ms, 30s or 2m")
            }
        }
        guard maxConnections > 0 else { throw ValidationError("--max-connections must be at least 1") }
        guard maxIdleUpstream >= 0 else { throw ValidationError("--max-idle-upstream must be 0 or more") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level '\(logLevel)' is not trace, debug, info, notice, warning, error or critical")
        }
    }

    /// `[host:]port`; the host defaults to every IPv4 address.
    static func address(_ text: String) -> GatewayConfiguration.Address? {
        ListenAddressText.parse(text, defaultHost: "0.0.0.0", allowingZero: true).map { GatewayConfiguration.Address(host: $0.host, port: $0.port) }
    }

    static func amount(_ text: String) -> TimeAmount {
        let d = DurationText.parse(text)!
        return .nanoseconds(d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "routergw")
        let configuration = GatewayConfiguration(
            http: http.flatMap(Self.address), tls: tls.flatMap(Self.address), tcpHost: tcpAddress,
            upstreamTimeout: Self.amount(upstreamTimeout), headerTimeout: Self.amount(headerTimeout),
            idleTimeout: Self.amount(idleTimeout), helloTimeout: Self.amount(helloTimeout),
            maximumConnections: maxConnections, maximumIdleUpstream: maxIdleUpstream)
        // The replica keeps what routerd sends, as routerd sent it: no history to replay.
        let table = try RouteTable(configuration: RouteTableConfiguration(historyLimit: 1))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads ?? System.coreCount)
        let follower = RouteFollower(socket: follow ?? DefaultSocket.path, table: table, logger: logger)
        let gateway = Gateway(table: table, configuration: configuration, logger: logger, group: group,
                              ready: { await follower.loaded() })
        var groupLogger = logger
        groupLogger.logLevel = .warning
        var parts: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: follower), .init(service: gateway)]
        // Under systemd (Type=notify): READY=1 once the listeners are open, STOPPING=1 first at
        // shutdown (the group stops its services last-first), WATCHDOG=1 when asked for.
        if let notifier = SystemdNotifier.fromProcessEnvironment() {
            parts.append(.init(service: SystemdNotifyService(notifier: notifier, status: "routing for \(follow ?? DefaultSocket.path)", logger: logger) {
                await gateway.waitUntilListening()
            }))
        }
        let services = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: parts,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: groupLogger))
        do {
            try await services.run()
        } catch {
            logger.critical("\(error)")
            try? await group.shutdownGracefully()
            throw ExitCode(1)
        }
        try? await group.shutdownGracefully()
    }
}
