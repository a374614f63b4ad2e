import Foundation
import Synchronization
import TestSupport
import Testing

@testable import HTTPServer

/// h2c against Debian's own HTTP/2 clients: curl (prior knowledge and Upgrade) and nghttp.
@Suite("HTTP/2 with curl and nghttp", .ownThread)
struct HTTP2ClientTests {
    /// Set when /gate-open is served; /gated-events waits for it between its two events.
    final class Gate: Sendable {
        let isOpen = Mutex(false)
    }

    static func router(gate: Gate = Gate()) -> Router {
        var router = TestServer.router
        router.add(
            .GET, "/version",
            .sync { request in
                .text("\(request.version) \(request.headers["Host"] ?? "-")")
            })
        router.add(
            .GET, "/bytes",
            .sync { request in
                HTTPResponse(
                    status: .ok, headers: ["Content-Type": "application/octet-stream"],
                    bytes: HTTP2Tool.pattern(count: Int(request.query("n") ?? "0") ?? 0))
            })
        router.add(
            .GET, "/gate-open",
            .sync { _ in
                gate.isOpen.withLock { $0 = true }
                return .text("open")
            })
        router.add(
            .GET, "/gated-events",
            .sync { _ in
                .stream(headers: ["Content-Type": "text/event-stream"]) { writer in
                    _ = await writer.write("data: first\n\n")
                    // Only another request on the same connection can let this stream go on.
                    for _ in 0..<1500 where !gate.isOpen.withLock({ $0 }) {
                        try? await Task.sleep(for: .milliseconds(10))
                    }
                    _ = await writer.write(
                        gate.isOpen.withLock { $0 } ? "data: second\n\n" : "data: gate never opened\n\n")
                }
            })
        return router
    }

    /// nghttp -s rows: (code, size, path) per stream.
    static func statRows(_ text: String) -> [(code: Int, size: String, path: String)] {
        text.split(separator: "\n").compactMap { line in
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            guard columns.count >= 7, Int(columns[0]) != nil, let code = Int(columns[4]) else { return nil }
            return (code, String(columns[5]), String(columns[6]))
        }
    }

    @Test func getByPriorKnowledgeReachesTheSameRoutes() async throws {
        try await TestServer.with(Self.router()) { server in
            let base = "http://127.0.0.1:\(server.port)"
            // One URL per curl: 7.88.1 cannot reuse a prior-knowledge connection (curl issue 10634).
            let output = try await HTTP2Tool.curl(["--http2-prior-knowledge", "-i", "\(base)/version"])
            #expect(output.status == 0, "\(output.stderr)")
            #expect(output.text.hasPrefix("HTTP/2 200"))
            #expect(output.text.contains("HTTP/2 127.0.0.1:\(server.port)"))
            let item = try await HTTP2Tool.curl(["--http2-prior-knowledge", "\(base)/items/42"])
            #expect(item.text == "item 42")
            #expect(server.metrics.requests.load(ordering: .relaxed) == 2)
        }
    }

    @Test func largeBodiesBothWays() async throws {
        try await TestServer.with(Self.router()) { server in
            let base = "http://127.0.0.1:\(server.port)"
            let upload = HTTP2Tool.pattern(count: 3_000_000, seed: 7)
            let file = try HTTP2Tool.temporaryFile(upload)
            defer { try? FileManager.default.removeItem(at: file) }
            let echoed = try await HTTP2Tool.curl([
                "--http2-prior-knowledge", "--data-binary", "@\(file.path)",
                "-H", "Content-Type: application/octet-stream", "\(base)/echo",
            ])
            #expect(echoed.status == 0, "\(echoed.stderr)")
            #expect(echoed.stdout.count == upload.count)
            #expect(echoed.stdout == Data(upload))
            let download = try await HTTP2Tool.curl(["--http2-prior-knowledge", "\(base)/bytes?n=5000000"])
            #expect(download.status == 0, "\(download.stderr)")
            #expect(download.stdout == Data(HTTP2Tool.pattern(count: 5_000_000)))
        }
    }

    @Test func hundredConcurrentStreamsOnOneConnection() async throws {
        try await TestServer.with(Self.router()) { server in
            // Each answer ("slept 100") takes 100 ms of async work, so all 100 are open at the same time.
            let output = try await HTTP2Tool.nghttp([
                "-n", "-s", "-m", "100", "http://127.0.0.1:\(server.port)/slow?ms=100",
            ])
            #expect(output.status == 0, "\(output.stderr)")
            let rows = Self.statRows(output.text)
            #expect(rows.count == 100)
            #expect(rows.allSatisfy { $0.code == 200 && $0.size == "9" })
            #expect(server.metrics.connectionsAccepted.load(ordering: .relaxed) == 1)
        }
    }

    @Test func hundredsOfEventStreamsOnOneConnection() async throws {
        try await TestServer.with(Self.router()) { server in
            let output = try await HTTP2Tool.nghttp([
                "-n", "-s", "-m", "300", "http://127.0.0.1:\(server.port)/stream?count=5",
            ])
            #expect(output.status == 0, "\(output.stderr)")
            let rows = Self.statRows(output.text)
            #expect(rows.count == 300)
            // "part 0\n" ... "part 4\n": 35 bytes each.
            #expect(rows.allSatisfy { $0.code == 200 && $0.size == "35" })
            #expect(server.metrics.streamsOpen.load(ordering: .relaxed) == 0)
        }
    }

    @Test func eventStreamStaysOpenWhileOtherRequestsAreServed() async throws {
        let gate = Gate()
        try await TestServer.with(Self.router(gate: gate)) { server in
            let base = "http://127.0.0.1:\(server.port)"
            // The event stream cannot finish unless /gate-open is answered while it is open,
            // on the same connection (nghttp multiplexes all URIs of one authority).
            let output = try await HTTP2Tool.nghttp([
                "-s", "\(base)/gated-events", "\(base)/gate-open", "\(base)/hello",
            ])
            #expect(output.status == 0, "\(output.stderr)")
            #expect(output.text.contains("data: first\n\ndata: second\n\n"))
            let rows = Self.statRows(output.text)
            #expect(rows.map(\.path).sorted() == ["/gate-open", "/gated-events", "/hello"])
            #expect(rows.allSatisfy { $0.code == 200 })
            #expect(server.metrics.connectionsAccepted.load(ordering: .relaxed) == 1)
        }
    }

    @Test func upgradeFromHTTP11AnswersOnStreamOne() async throws {
        try await TestServer.with(Self.router()) { server in
            let base = "http://127.0.0.1:\(server.port)"
            // The second URL reuses the upgraded connection.
            let output = try await HTTP2Tool.curl(["--http2", "-i", "\(base)/version", "\(base)/version"])
            #expect(output.status == 0, "\(output.stderr)")
            #expect(output.text.hasPrefix("HTTP/1.1 101 Switching Protocols"))
            #expect(output.text.contains("HTTP/2 200"))
            #expect(output.text.contains("HTTP/1.1 127.0.0.1:\(server.port)"))
            #expect(output.text.contains("HTTP/2 127.0.0.1:\(server.port)"))
            #expect(server.metrics.connectionsAccepted.load(ordering: .relaxed) == 1)
        }
    }

    @Test func upgradeWithABodyEchoesIt() async throws {
        try await TestServer.with(Self.router()) { server in
            let upload = HTTP2Tool.pattern(count: 100_000, seed: 3)
            let file = try HTTP2Tool.temporaryFile(upload)
            defer { try? FileManager.default.removeItem(at: file) }
            let output = try await HTTP2Tool.curl([
                "--http2", "-w", "%{http_version}", "--data-binary", "@\(file.path)",
                "http://127.0.0.1:\(server.port)/echo",
            ])
            #expect(output.status == 0, "\(output.stderr)")
            #expect(output.stdout == Data(upload) + Data("2".utf8))
        }
    }

    @Test func oversizedHeaderListGets431AndOthersAreServed() async throws {
        try await TestServer.with(Self.router()) { server in
            let base = "http://127.0.0.1:\(server.port)"
            let big = String(repeating: "x", count: 20_000)
            let refused = try await HTTP2Tool.curl([
                "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}", "-H", "X-Big: \(big)",
                "\(base)/hello",
            ])
            #expect(refused.text == "431", "\(refused.stderr)")
            let fine = try await HTTP2Tool.curl(["--http2-prior-knowledge", "\(base)/hello"])
            #expect(fine.text == "hello")
            #expect(server.metrics.headersTooLarge.load(ordering: .relaxed) == 1)
        }
    }

    @Test func oversizedBodyGets413() async throws {
        try await TestServer.with(Self.router(), configure: { $0.limits.maxBodyBytes = 10_000 }) { server in
            let file = try HTTP2Tool.temporaryFile(HTTP2Tool.pattern(count: 200_000))
            defer { try? FileManager.default.removeItem(at: file) }
            let base = "http://127.0.0.1:\(server.port)"
            let refused = try await HTTP2Tool.curl([
                "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}",
                "--data-binary", "@\(file.path)", "\(base)/echo",
            ])
            #expect(refused.text == "413", "\(refused.stderr)")
            let fine = try await HTTP2Tool.curl(["--http2-prior-knowledge", "--data-binary", "small", "\(base)/echo"])
            #expect(fine.text == "small")
            #expect(server.metrics.bodiesTooLarge.load(ordering: .relaxed) == 1)
        }
    }
}
