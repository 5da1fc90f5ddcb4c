// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "DomainRouter",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DomainRouter", targets: ["DomainRouter"]),
        .library(name: "RouterProtocol", targets: ["RouterProtocol"]),
        .library(name: "RouterEngine", targets: ["RouterEngine"]),
        .library(name: "RouterServer", targets: ["RouterServer"]),
        .library(name: "RouterClient", targets: ["RouterClient"]),
        .library(name: "RouterHTTPClient", targets: ["RouterHTTPClient"]),
        .library(name: "RouterRedis", targets: ["RouterRedis"]),
        .library(name: "RouterGateway", targets: ["RouterGateway"]),
        .executable(name: "routerd", targets: ["routerd"]),
        .executable(name: "routerctl", targets: ["routerctl"]),
        .executable(name: "routergw", targets: ["routergw"]),
        .executable(name: "router-bench", targets: ["router-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Hummingbird's own: named here for the HTTP part types RouterHTTP's connection handler sees.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // Plain-C face over ICU (UTS #46 IDNA and UTS #39 spoof checks); see PLATFORM-NOTES.
        .target(
            name: "CIDNA",
            linkerSettings: [.linkedLibrary("icuuc"), .linkedLibrary("icui18n")]
        ),
        // The embeddable route table: names, keys, routes, expiry, change feed. No I/O.
        .target(
            name: "DomainRouter",
            dependencies: [
                "CIDNA",
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // NDJSON wire messages, JSON codec and line framing, shared by daemon and clients.
        .target(name: "RouterProtocol"),
        // The DNS wire format by hand (no Swift DNS library is reachable): messages, names with
        // compression, EDNS(0). No I/O.
        .target(name: "DNSWire"),
        // What every front end and store shares: the executor, the store seam and the drafting
        // writer, the wire shape of results and errors, metrics.
        .target(
            name: "RouterEngine",
            dependencies: [
                "DomainRouter",
                "RouterProtocol",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(
            name: "RouterServer",
            dependencies: [
                "DomainRouter",
                "RouterProtocol",
                "RouterEngine",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // DNS from the table: authoritative answers over UDP and TCP (a read-only front end).
        .target(
            name: "RouterDNS",
            dependencies: [
                "DNSWire", "DomainRouter", "RouterEngine", "RouterProtocol",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The HTTP API (Hummingbird 2): the same executor as the socket, behind bearer tokens.
        .target(
            name: "RouterHTTP",
            dependencies: [
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                "RouterEngine", "RouterProtocol", "DomainRouter",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // A small RESP2 client on SwiftNIO (no Swift Redis client is reachable here): pipelining,
        // reconnect with backoff, AUTH/SELECT, scripts by SHA1. The shared store's transport.
        .target(
            name: "RouterRedis",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // An etcd v3 client over etcd's JSON gateway (AsyncHTTPClient): KV, transactions,
        // watches, leases, several endpoints with failover, TLS and user authentication.
        .target(
            name: "RouterEtcd",
            dependencies: [
                "RouterProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The shared store on an etcd cluster: the Redis store's guarantees through etcd's
        // transactions, watches and leases.
        .target(
            name: "RouterEtcdStore",
            dependencies: [
                "DomainRouter", "RouterProtocol", "RouterEtcd", "RouterEngine",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "RouterRedisStore",
            dependencies: [
                "DomainRouter", "RouterProtocol", "RouterRedis", "RouterEngine",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The state file: the table and its change history in SQLite (GRDB on the system's
        // libsqlite3), for `routerd --db`.
        .target(
            name: "RouterSQLiteStore",
            dependencies: [
                "DomainRouter", "RouterProtocol", "RouterEngine",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // A blocking client for the protocol: no event loop, so a one-shot CLI call stays cheap.
        .target(name: "RouterClient", dependencies: ["RouterProtocol"]),
        // The same client over the HTTP API, for `routerctl --url`: blocking HTTP/1.1 written here
        // (no event loop, no Foundation: routerctl starts once per command), TLS from the system's
        // OpenSSL loaded only for https:// (see HTTPTransport's comment).
        .target(name: "RouterHTTPClient", dependencies: ["RouterClient", "RouterProtocol"]),
        // GNU readline (GPL-3.0): linked into routerctl only; see README's licensing section.
        .systemLibrary(name: "CReadline", providers: [.apt(["libreadline-dev"])]),
        .executableTarget(
            name: "routerctl",
            dependencies: [
                "RouterClient", "RouterHTTPClient", "RouterProtocol", "CReadline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "routerd",
            dependencies: [
                "RouterDNS", "DNSWire",
                .product(name: "NIOCore", package: "swift-nio"),
                "RouterEngine",
                "RouterServer",
                "RouterRedis",
                "RouterRedisStore",
                "RouterEtcd",
                "RouterEtcdStore",
                .product(name: "NIOPosix", package: "swift-nio"),
                "RouterSQLiteStore",
                "RouterHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "DomainRouter",
                "RouterProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                "ConfigFile",
                "ServiceNotify",
            ]
        ),
        // A daemon's configuration file (YAML, one key a flag), checked with a line for each problem.
        .target(
            name: "ConfigFile",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // systemd's notify protocol (READY, RELOADING, STOPPING, WATCHDOG), written directly.
        .target(
            name: "ServiceNotify",
            dependencies: [
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The data plane: a replica of routerd's table and the HTTP, TLS and TCP listeners
        // that route by it (SwiftNIO).
        .target(
            name: "RouterGateway",
            dependencies: [
                "DomainRouter", "RouterClient", "RouterProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // Every request runs this module's handlers, each touching the properties of
            // handler objects many times; in release builds the run-time exclusivity checks of
            // those accesses are left out. Debug builds, which the tests run, keep them, so an
            // overlapping access is still caught there.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "routergw",
            dependencies: [
                "RouterGateway", "DomainRouter", "RouterClient", "RouterProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "ServiceNotify",
            ]
        ),
        // Linux's epoll, which Swift's Glibc module leaves out: router-bench's load generator.
        .systemLibrary(name: "CEpoll"),
        .executableTarget(
            name: "router-bench",
            dependencies: [
                "DomainRouter", "RouterProtocol", "RouterEngine", "RouterServer", "RouterTestSupport", "RouterEtcd", "CEpoll",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What the tests (and router-bench) share: daemons in this process and as processes,
        // child processes, temporary folders, polling.
        .target(
            name: "RouterTestSupport",
            dependencies: [
                "RouterEngine", "RouterServer", "RouterProtocol", "DomainRouter",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            path: "Tests/RouterTestSupport"
        ),
        .testTarget(
            name: "DomainRouterTests",
            dependencies: ["DomainRouter", "RouterTestSupport"]
        ),
        .testTarget(
            name: "RouterProtocolTests",
            dependencies: ["RouterProtocol"]
        ),
        .testTarget(
            name: "DNSWireTests",
            dependencies: ["DNSWire"]
        ),
        .testTarget(
            name: "RouterDNSTests",
            dependencies: [
                "RouterDNS", "DNSWire", "DomainRouter", "RouterEngine", "RouterTestSupport", "routerd", "routerctl",
            ]
        ),
        .testTarget(
            name: "RouterEngineTests",
            dependencies: ["RouterEngine", "DomainRouter"]
        ),
        .testTarget(
            name: "RouterServerTests",
            dependencies: [
                "RouterEngine", "RouterServer", "RouterProtocol", "DomainRouter", "RouterTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RouterRedisTests",
            dependencies: [
                "RouterRedis", "RouterTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // What must hold on every shared store: the same tests on Redis and on etcd.
        .testTarget(
            name: "SharedStoreTests",
            dependencies: ["RouterProtocol", "RouterTestSupport", "routerd"]
        ),
        .testTarget(
            name: "RouterEtcdStoreTests",
            dependencies: ["RouterProtocol", "RouterTestSupport", "routerd"]
        ),
        .testTarget(
            name: "RouterRedisStoreTests",
            dependencies: [
                "DomainRouter", "RouterProtocol", "RouterRedis", "RouterRedisStore", "RouterEngine", "RouterTestSupport", "routerd",
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RouterGatewayTests",
            dependencies: [
                "RouterGateway", "DomainRouter", "RouterProtocol", "RouterTestSupport", "routergw", "routerd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RouterSQLiteStoreTests",
            dependencies: [
                "DomainRouter", "RouterProtocol", "RouterEngine", "RouterSQLiteStore", "RouterTestSupport", "routerd",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "RouterHTTPTests",
            dependencies: [
                "RouterHTTP", "RouterEngine", "RouterServer", "RouterProtocol", "RouterTestSupport", "routerd", "DomainRouter",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "RouterClientTests",
            dependencies: ["RouterClient", "RouterHTTPClient", "RouterProtocol", "RouterTestSupport", "routerd"]
        ),
        // End-to-end: the built routerctl binary against the built routerd binary.
        .testTarget(
            name: "RouterctlTests",
            dependencies: ["routerctl", "routerd", "routergw", "router-bench", "RouterProtocol", "RouterTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
