import Foundation
import Logging

@testable import HTTPServer

/// An HTTPServer on 127.0.0.1, port 0, for one test; always shut down by `with`.
enum TestServer {
    static func with<T: Sendable>(
        _ router: Router,
        configure: (inout HTTPServerConfiguration) -> Void = { _ in },
        _ body: (HTTPServer) async throws -> T
    ) async throws -> T {
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0, eventLoopCount: 2)
        configure(&configuration)
        var logger = Logger(label: "test")
        logger.logLevel = .error
        let server = try HTTPServer(configuration: configuration, responder: router, logger: logger)
        try server.start()
        do {
            let result = try await body(server)
            await server.shutdown()
            return result
        } catch {
            await server.shutdown()
            throw error
        }
    }

    /// A router with the handful of routes the loopback tests use.
    static var router: Router {
        var router = Router()
        router.add(.GET, "/hello", .sync { _ in .text("hello") })
        router.add(
            .POST, "/echo",
            .sync { request in
                HTTPResponse(status: .ok, headers: ["Content-Type": "application/octet-stream"], bytes: request.body)
            })
        router.add(.GET, "/items/{id}", .sync { request in .text("item \(request.pathParameters["id"] ?? "?")") })
        router.add(.DELETE, "/items/{id}", .sync { _ in HTTPResponse(status: .noContent) })
        router.add(
            .GET, "/slow",
            .async { request in
                let ms = Int(request.query("ms") ?? "200") ?? 200
                try await Task.sleep(for: .milliseconds(ms))
                return .text("slept \(ms)")
            })
        router.add(
            .GET, "/stream",
            .sync { request in
                let count = Int(request.query("count") ?? "3") ?? 3
                return .stream(headers: ["Content-Type": "text/plain"]) { writer in
                    for i in 0..<count {
                        await writer.write("part \(i)\n")
                        try? await Task.sleep(for: .milliseconds(10))
                    }
                }
            })
        router.add(
            .GET, "/fail",
            .sync { _ in throw HTTPError(.unprocessableContent, "bad value", extensions: ["errors": ["x"]]) })
        return router
    }
}
