// swift-tools-version: 6.0
// The benchmarks' own package (not part of the product): the Swift halves of bench/sse,
// bench/runs, bench/workflows and bench/events/run, built against the product package one folder up.
//
//   swift build --package-path bench -c release      (binaries in bench/.build/release/)
import PackageDescription

let package = Package(
    name: "invokeai-gateway-bench",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "invokeai-gateway", path: ".."),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // bench/sse's load generator, in-process publisher and floor peer.
        .executableTarget(
            name: "sse-bench",
            dependencies: [
                .product(name: "CEpoll", package: "invokeai-gateway"),
                .product(name: "Gateway", package: "invokeai-gateway"),
                .product(name: "HTTPServer", package: "invokeai-gateway"),
                .product(name: "JSONValue", package: "invokeai-gateway"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // bench/runs' server: the gateway with a full runs window.
        .executableTarget(
            name: "runs-bench",
            dependencies: [
                .product(name: "Gateway", package: "invokeai-gateway"),
                .product(name: "HTTPServer", package: "invokeai-gateway"),
                .product(name: "InvokeAI", package: "invokeai-gateway"),
                .product(name: "JSONValue", package: "invokeai-gateway"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // bench/workflows' engine loop.
        .executableTarget(
            name: "workflows-bench",
            dependencies: [
                .product(name: "Workflows", package: "invokeai-gateway"),
                .product(name: "JSONValue", package: "invokeai-gateway"),
            ]
        ),
        // bench/events' decoder and latency probe.
        .executableTarget(
            name: "invokeai-events-bench",
            dependencies: [
                .product(name: "InvokeAI", package: "invokeai-gateway"),
                .product(name: "JSONValue", package: "invokeai-gateway"),
            ]
        ),
    ]
)
