import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

@testable import HTTPServer

@Suite("Graceful shutdown", .ownThread)
struct ShutdownTests {
    /// The grace period is long (5 min) and the test's limit short: shutting down must end as
    /// soon as the in-flight request is done, not when the grace runs out. The in-flight request
    /// is held by a gate the test opens only once shutdown has visibly begun (the idle connection
    /// closed on the single loop), so the order does not depend on how the machine schedules.
    @Test(.timeLimit(.minutes(1))) func inFlightRequestsFinishIdleConnectionsClose() async throws {
        let entered = Mutex(false)
        let opened = Mutex(false)
        var router = TestServer.router
        router.add(
            .GET, "/gated",
            .async { _ in
                entered.withLock { $0 = true }
                while !opened.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
                return .text("gate opened")
            })
        var logger = Logger(label: "test")
        logger.logLevel = .error
        let server = try HTTPServer(
            configuration: HTTPServerConfiguration(
                host: "127.0.0.1", port: 0, eventLoopCount: 1, shutdownGracePeriod: .seconds(300)),
            responder: router, logger: logger)
        try server.start()
        let port = server.port
        let (idle, busy) = try await blocking {
            let idle = try TestSocket(port: port)
            try idle.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = try idle.readResponse()
            let busy = try TestSocket(port: port)
            try busy.send("GET /gated HTTP/1.1\r\nHost: x\r\n\r\n")
            return (idle, busy)
        }
        try await eventually { entered.withLock { $0 } }
        async let stopping: Void = server.shutdown()
        #expect(try await blocking { idle.isClosedByServer() })
        opened.withLock { $0 = true }
        let response = try await blocking { try busy.readResponse() }
        #expect(response.status == 200)
        #expect(response.text == "gate opened")
        #expect(response.header("Connection") == "close")
        await stopping
        // No longer listening.
        #expect(throws: (any Error).self) { _ = try TestSocket(port: port) }
    }

    @Test(.timeLimit(.minutes(1))) func graceOverClosesStragglers() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = try HTTPServer(
            configuration: HTTPServerConfiguration(
                host: "127.0.0.1", port: 0, eventLoopCount: 1, shutdownGracePeriod: .milliseconds(300)),
            responder: TestServer.router, logger: logger)
        try server.start()
        let port = server.port
        let client = try await blocking {
            let client = try TestSocket(port: port)
            try client.send("GET /slow?ms=600000 HTTP/1.1\r\nHost: x\r\n\r\n")
            return client
        }
        try await Task.sleep(for: .milliseconds(100))
        // The straggler would take 10 minutes: shutdown returning at all (within the test's time
        // limit) shows the 300 ms grace cut it off.
        await server.shutdown()
        #expect(try await blocking { client.isClosedByServer() })
    }

    @Test func streamsEndCleanlyOnShutdown() async throws {
        var router = TestServer.router
        let ticks = Mutex(0)
        router.add(
            .GET, "/forever",
            .sync { _ in
                .stream { writer in
                    while await writer.write("tick\n") {
                        ticks.withLock { $0 += 1 }
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
            })
        var logger = Logger(label: "test")
        logger.logLevel = .error
        let server = try HTTPServer(
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, eventLoopCount: 1), responder: router,
            logger: logger)
        try server.start()
        let port = server.port
        let client = try await blocking {
            let client = try TestSocket(port: port)
            try client.send("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = try client.readHead()
            return client
        }
        // Shut down mid-stream, once ticks are flowing (not before the first one was written).
        try await eventually { ticks.withLock { $0 } >= 2 }
        await server.shutdown()
        // The chunked body is terminated properly (the last chunk arrives), then the connection closes.
        let body = try await blocking { try client.readChunkedBody() }
        #expect(String(decoding: body, as: UTF8.self).hasPrefix("tick\n"))
        #expect(try await blocking { client.isClosedByServer() })
    }
}
