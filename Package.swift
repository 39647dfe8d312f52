// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "lockwatch",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "lockwatch", targets: ["lockwatch"]),
        .library(name: "LockwatchCore", targets: ["LockwatchCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CPCRE2",
            pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"]), .brew(["pcre2"])]
        ),
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(name: "CScan", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "PCRE2", dependencies: ["CPCRE2"]),
        .target(
            name: "LockwatchCore",
            dependencies: [
                "PCRE2", "CZlib", "CScan",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
            ],
            // Every record passes through class-held state (caches, scratch records), whose
            // accesses the compile-time exclusivity checks already cover; release builds leave
            // out the run-time check of each (its cost is in BENCHMARKS.md).
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "lockwatch",
            dependencies: [
                "LockwatchCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(name: "LockwatchTestSupport", dependencies: ["LockwatchCore"], path: "Tests/Support"),
        .testTarget(name: "PCRE2Tests", dependencies: ["PCRE2"]),
        .testTarget(name: "LockwatchCoreTests", dependencies: ["LockwatchCore", "LockwatchTestSupport"]),
        .testTarget(name: "LockwatchTests", dependencies: ["lockwatch", "LockwatchCore", "LockwatchTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
