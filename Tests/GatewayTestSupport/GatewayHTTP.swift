import Foundation
import Gateway
import HTTPServer
import Logging
import TestSupport

/// Starts a GatewayServer on a free loopback port for one test and always stops it. Shared by the
/// gateway's loopback tests and the live tests.
public enum GatewayHTTP {
    public static func with<T: Sendable>(
        invokeAI: URL,
        publicDirectory: String? = nil,
        openAPIFile: String? = nil,
        _ body: (URL) async throws -> T
    ) async throws -> T {
        try await withGateway(
            invokeAI: invokeAI,
            configure: {
                $0.publicDirectory = publicDirectory
                $0.openAPIFile = openAPIFile
            }
        ) { base, _ in try await body(base) }
    }

    /// Like `with`, with the configuration open to changes and the running server at hand.
    public static func withGateway<T: Sendable>(
        invokeAI: URL,
        configure: (inout GatewayConfiguration) -> Void = { _ in },
        _ body: (URL, GatewayServer) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "gateway-test")
        logger.logLevel = .error
        var configuration = GatewayConfiguration(
            server: HTTPServerConfiguration(host: "127.0.0.1", port: 0, eventLoopCount: 1),
            invokeAIURL: invokeAI, upstreamTimeout: 5)
        configure(&configuration)
        let gateway = try GatewayServer(configuration: configuration, logger: logger)
        try gateway.start()
        do {
            let result = try await body(URL(string: "http://127.0.0.1:\(gateway.port)")!, gateway)
            await gateway.shutdown()
            return result
        } catch {
            await gateway.shutdown()
            throw error
        }
    }

    /// GET and decode JSON: status and object.
    public static func getJSON(_ url: URL) async throws -> (Int, [String: Any]) {
        let (data, response) = try await TestHTTP.data(from: url)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        return (response.statusCode, object)
    }

    /// The repository's top folder (for openapi/ and Public/).
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// A loopback URL where nothing listens: bind a port, then close it.
    public static func deadUpstream() throws -> URL {
        let unused = try RefusingPort()
        unused.close()
        return URL(string: "http://127.0.0.1:\(unused.port)")!
    }
}
