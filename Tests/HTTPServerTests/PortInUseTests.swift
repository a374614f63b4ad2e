import Logging
import TestSupport
import Testing

@testable import HTTPServer

/// A server on a port that is already listened on fails to start, instead of silently sharing
/// it through SO_REUSEPORT (the kernel would split connections between the two).
@Suite("Port in use", .ownThread)
struct PortInUseTests {
    private static func refusal(startingOn port: Int) async throws -> String? {
        var logger = Logger(label: "test")
        logger.logLevel = .error
        let server = try HTTPServer(
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: port, eventLoopCount: 2),
            responder: TestServer.router, logger: logger)
        var refusal: String?
        do { try server.start() } catch { refusal = "\(error)" }
        await server.shutdown()
        return refusal
    }

    @Test(.timeLimit(.minutes(1))) func aSecondServerOnTheSamePortFailsToStart() async throws {
        try await TestServer.with(TestServer.router) { first in
            let refusal = try await Self.refusal(startingOn: first.port)
            #expect(
                refusal
                    == "127.0.0.1:\(first.port) is already in use by another process (another gateway?); stop it or choose another --port"
            )
            // The first server still answers.
            let client = try TestSocket(port: first.port)
            try client.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(try client.readResponse().status == 200)
        }
    }

    @Test(.timeLimit(.minutes(1))) func aPortAnotherProgramListensOnIsRefused() async throws {
        let other = try SilentPort()
        let refusal = try await Self.refusal(startingOn: other.port)
        #expect(refusal?.hasPrefix("127.0.0.1:\(other.port) is already in use by another process") == true)
    }
}
