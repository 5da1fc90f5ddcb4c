// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "DomainRouter",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DomainRouter", targets: ["DomainRouter"]),
        .executable(name: "router-bench", targets: ["router-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
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
        .executableTarget(
            name: "router-bench",
            dependencies: ["DomainRouter"]
        ),
        .testTarget(
            name: "DomainRouterTests",
            dependencies: ["DomainRouter"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
