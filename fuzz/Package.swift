// swift-tools-version:6.0
// The libFuzzer target over decode → match → correlate → print (`make fuzz SECONDS=N`).
// A package of its own, so that the sanitizer flags never touch the main build.
import PackageDescription

let package = Package(
    name: "lockwatch-fuzz",
    dependencies: [.package(name: "lockwatch", path: "..")],
    targets: [
        .executableTarget(
            name: "lockwatch-fuzz",
            dependencies: [.product(name: "LockwatchCore", package: "lockwatch")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
