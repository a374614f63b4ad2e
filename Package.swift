// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "invokeai-gateway",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "invokeai-gateway", targets: ["invokeai-gateway"]),
        // For the benchmark package under bench/ (bench/Package.swift); not a supported API.
        .library(name: "CEpoll", targets: ["CEpoll"]),
        .library(name: "Transport", targets: ["Transport"]),
        .library(name: "JSONValue", targets: ["JSONValue"]),
        .library(name: "HTTPServer", targets: ["HTTPServer"]),
        .library(name: "Workflows", targets: ["Workflows"]),
        .library(name: "InvokeAI", targets: ["InvokeAI"]),
        .library(name: "Gateway", targets: ["Gateway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        // Prometheus exposition for /metrics (no NIO: swift-metrics and swift-atomics only).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // epoll/eventfd live in Glibc headers that Swift's Glibc module does not export.
        .target(name: "CEpoll"),
        // HTTP/2 framing, HPACK and flow control (h2c beside HTTP/1.1 on the same port).
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .target(name: "JSONValue"),
        // The commit a release build is stamped with (scripts/release: -Xcc -DGATEWAY_BUILD_COMMIT=...).
        .target(name: "CBuildInfo"),
        // Pure HTTP types both sides share: method, status (the one reason-phrase table), headers,
        // version, an answer-head parser, the monotonic clock and deadlines. No sockets.
        .target(name: "HTTPCore"),
        // The one transport: epoll event loops (with timers), sockets, and the buffered
        // non-blocking connection every protocol on both sides moves its bytes with.
        .target(name: "Transport", dependencies: ["CEpoll", "HTTPCore"]),
        .target(
            name: "HTTPServer",
            dependencies: [
                "CEpoll",
                "CNGHTTP2",
                "HTTPCore",
                "JSONValue",
                "Transport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Pure: workflow parsing, inputs, validation, graph building, outputs. No I/O.
        .target(name: "Workflows", dependencies: ["JSONValue"]),
        // SHA-1 (the WebSocket handshake, idempotency batch ids) and SHA-256 (API keys), checked
        // against FIPS 180-4's vectors in their tests.
        .target(name: "Digests"),
        .target(name: "InvokeAI", dependencies: ["CEpoll", "Digests", "HTTPCore", "JSONValue", "Transport"]),
        .target(
            name: "Gateway",
            dependencies: [
                "CBuildInfo",
                "Digests",
                "HTTPCore",
                "HTTPServer",
                "InvokeAI",
                "JSONValue",
                "Transport",
                "Workflows",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "invokeai-gateway",
            dependencies: [
                "Gateway",
                "HTTPServer",
                "InvokeAI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Helpers shared by the test targets: the one socket client (TestSocket) with the HTTP/1.1
        // request helper and the server-sent-events reader over it, waiting for asynchronous
        // facts, blocking I/O.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // A gateway on a free loopback port for one test (GatewayHTTP), for GatewayTests and LiveTests.
        .target(
            name: "GatewayTestSupport",
            dependencies: ["Gateway", "HTTPServer", "TestSupport", .product(name: "Logging", package: "swift-log")],
            path: "Tests/GatewayTestSupport"
        ),
        .testTarget(name: "DigestsTests", dependencies: ["Digests"]),
        .testTarget(name: "HTTPCoreTests", dependencies: ["HTTPCore"]),
        .testTarget(name: "TransportTests", dependencies: ["HTTPCore", "Transport"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPCore", "HTTPServer", "TestSupport"]),
        .testTarget(
            name: "GatewayTests",
            dependencies: ["Digests", "Gateway", "GatewayTestSupport", "HTTPCore", "HTTPServer", "TestSupport"]
        ),
        .testTarget(
            name: "InvokeAITests", dependencies: ["HTTPCore", "InvokeAI", "JSONValue", "TestSupport", "Transport"]),
        .testTarget(name: "JSONValueTests", dependencies: ["JSONValue"]),
        // The engine compared with a plain reference implementation, for WorkflowsTests and LiveTests.
        .target(
            name: "WorkflowsTestSupport", dependencies: ["JSONValue", "Workflows"], path: "Tests/WorkflowsTestSupport"),
        .testTarget(
            name: "WorkflowsTests", dependencies: ["Workflows", "JSONValue", "TestSupport", "WorkflowsTestSupport"]),
        // Every test that talks to a real InvokeAI (scripts/invokeai-harness), by area: Gateway/,
        // InvokeAI/, Workflows/. scripts/test runs them as a phase of their own (`--filter LiveTests`).
        .testTarget(
            name: "LiveTests",
            dependencies: [
                "Gateway", "GatewayTestSupport", "InvokeAI", "JSONValue", "TestSupport", "Workflows",
                "WorkflowsTestSupport",
            ]
        ),
    ]
)
