import Foundation
import TestSupport
import Testing
import Transport

@testable import InvokeAI

/// `PooledHTTPClient` against `ScriptedHTTPServer`: framing, keep-alive, limits, errors.
@Suite(.ownThread) struct PooledHTTPClientTests {
    static let ok = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

    /// A client whose idle connections do not age out during a test: on a loaded machine two
    /// awaits in a row can be seconds apart, and a test about reuse must not depend on that.
    private func reusingClient() -> PooledHTTPClient {
        PooledHTTPClient(pool: HTTPConnectionPool(maxIdleAge: 600))
    }

    private func request(
        _ server: ScriptedHTTPServer, _ method: String = "GET", _ target: String = "/x",
        body: Data? = nil
    ) -> HTTPClientRequest {
        HTTPClientRequest(method: method, host: "127.0.0.1", port: server.port, target: target, body: body)
    }

    private func send(
        _ client: PooledHTTPClient, _ request: HTTPClientRequest, timeout: Double = 10,
        maxBytes: Int = 1 << 20
    ) async throws(HTTPClientError) -> HTTPClientResponse {
        try await client.send(request, connectTimeout: 5, timeout: timeout, maxBytes: maxBytes)
    }

    private static func isError(_ error: any Error, _ matches: (HTTPClientError) -> Bool) -> Bool {
        guard let error = error as? HTTPClientError else { return false }
        return matches(error)
    }

    @Test func contentLengthBody() async throws {
        let server = try ScriptedHTTPServer(scripts: [
            [
                .answer(
                    "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nX-Twice: a\r\nx-twice: b\r\nContent-Length: 5\r\n\r\nhello"
                )
            ]
        ])
        defer { server.stop() }
        let response = try await send(PooledHTTPClient(), request(server, "GET", "/api/v1/x?a=%2B"))
        #expect(response.status == 201)
        #expect(response.reason == "Created")
        #expect(response.body == Data("hello".utf8))
        #expect(response.value(forHeader: "content-type") == "text/plain")
        #expect(response.value(forHeader: "X-TWICE") == "a, b")
        let head = try #require(server.requests.first?.head)
        #expect(head.hasPrefix("GET /api/v1/x?a=%2B HTTP/1.1\r\n"))
        #expect(head.contains("\r\nHost: 127.0.0.1:\(server.port)"))
        #expect(!head.lowercased().contains("content-length"))
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() async throws {
        let raw =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n"
        let server = try ScriptedHTTPServer(scripts: [[.answer(raw), .answer(Self.ok)]])
        defer { server.stop() }
        let client = reusingClient()
        let response = try await send(client, request(server))
        #expect(response.body == Data("hello, world".utf8))
        // Read to its exact end, trailers included: the connection carries the next request.
        #expect(try await send(client, request(server)).body == Data("hello".utf8))
        #expect(server.acceptedConnections == 1)
    }

    @Test func closeDelimitedBody() async throws {
        let server = try ScriptedHTTPServer(scripts: [
            [.answer("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")]
        ])
        defer { server.stop() }
        let client = PooledHTTPClient()
        #expect(try await send(client, request(server)).body == Data("until the end".utf8))
        #expect(client.pool.idleCount == 0)
    }

    @Test func keptAliveConnectionIsReused() async throws {
        let server = try ScriptedHTTPServer(scripts: [
            [.answer(Self.ok), .answer("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye")]
        ])
        defer { server.stop() }
        let client = reusingClient()
        #expect(try await send(client, request(server, "POST", "/a", body: Data("{}".utf8))).body == Data("hello".utf8))
        #expect(try await send(client, request(server, "GET", "/b")).body == Data("bye".utf8))
        #expect(server.acceptedConnections == 1)
        #expect(server.requests.map(\.connection) == [0, 0])
        #expect(server.requests.first?.body == Array("{}".utf8))
    }

    @Test func answersWithoutBodyKeepTheConnection() async throws {
        // 204 and 304 never have a body; a HEAD answer's Content-Length describes the GET's.
        let server = try ScriptedHTTPServer(scripts: [
            [
                .answer("HTTP/1.1 204 No Content\r\n\r\n"),
                .answer("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"),
                .answer("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"),
                .answer(Self.ok),
            ]
        ])
        defer { server.stop() }
        let client = reusingClient()
        #expect(try await send(client, request(server, "DELETE")).status == 204)
        #expect(try await send(client, request(server)).status == 304)
        let head = try await send(client, request(server, "HEAD"))
        #expect(head.status == 200 && head.body.isEmpty)
        #expect(try await send(client, request(server)).body == Data("hello".utf8))
        #expect(server.acceptedConnections == 1)
    }

    @Test func interimAnswerIsSkipped() async throws {
        let server = try ScriptedHTTPServer(scripts: [[.answer("HTTP/1.1 100 Continue\r\n\r\n" + Self.ok)]])
        defer { server.stop() }
        #expect(try await send(PooledHTTPClient(), request(server)).body == Data("hello".utf8))
    }

    @Test func requestOnAConnectionClosedWhileIdleIsRetriedOnANewOne() async throws {
        // The first connection takes the second request and closes without a byte of answer,
        // as a server does when its keep-alive timeout ends just then: sent again, on a new one.
        let server = try ScriptedHTTPServer(scripts: [
            [.answer(Self.ok), .readAndClose], [.answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nretry")],
        ])
        defer { server.stop() }
        let client = reusingClient()
        #expect(try await send(client, request(server)).body == Data("hello".utf8))
        // Not idempotent, and retried all the same: the server cannot have acted on it.
        let second = try await send(client, request(server, "POST", "/enqueue", body: Data("{}".utf8)))
        #expect(second.body == Data("retry".utf8))
        #expect(server.acceptedConnections == 2)
        #expect(server.requests.map(\.connection) == [0, 0, 1])
    }

    @Test func connectionClosedByTheServerWhileIdleIsNotReused() async throws {
        // The server closes right after answering: the client sees it before reusing.
        let server = try ScriptedHTTPServer(scripts: [[.answer(Self.ok)]], otherwise: [.answer(Self.ok)])
        defer { server.stop() }
        let client = reusingClient()
        _ = try await send(client, request(server))
        try await Task.sleep(nanoseconds: 100_000_000)
        #expect(try await send(client, request(server)).body == Data("hello".utf8))
        #expect(server.acceptedConnections == 2)
        #expect(server.requests.count == 2)
    }

    @Test func failureOnAFreshConnectionIsNotRetried() async throws {
        let server = try ScriptedHTTPServer(scripts: [[.readAndClose]], otherwise: [.answer(Self.ok)])
        defer { server.stop() }
        await #expect { try await send(PooledHTTPClient(), request(server)) } throws: { error in
            Self.isError(error) { $0 == .connectionClosed(beforeAnyResponseByte: true) }
        }
        #expect(server.acceptedConnections == 1)
    }

    @Test func connectionCloseAnswerIsNotReused() async throws {
        // The server says close but leaves the socket open: the client must still not reuse it.
        let server = try ScriptedHTTPServer(
            scripts: [[.answer("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nfirst"), .hold]],
            otherwise: [.answer(Self.ok)])
        defer { server.stop() }
        let client = reusingClient()
        #expect(try await send(client, request(server)).body == Data("first".utf8))
        #expect(try await send(client, request(server)).body == Data("hello".utf8))
        #expect(server.acceptedConnections == 2)
        #expect(client.pool.openCount == 1)
    }

    @Test func idleConnectionOlderThanTheLimitIsNotReused() async throws {
        let server = try ScriptedHTTPServer(otherwise: [.answerEvery(Self.ok)])
        defer { server.stop() }
        let client = PooledHTTPClient(pool: HTTPConnectionPool(maxIdleAge: 0.1))
        _ = try await send(client, request(server))
        try await Task.sleep(nanoseconds: 300_000_000)
        _ = try await send(client, request(server))
        #expect(server.acceptedConnections == 2)
        #expect(client.pool.openCount == 1)
    }

    @Test func silentServerTimesOut() async throws {
        let server = try ScriptedHTTPServer(scripts: [[.readAndHold]])
        defer { server.stop() }
        await #expect { try await send(PooledHTTPClient(), request(server), timeout: 1) } throws: { error in
            Self.isError(error) { if case .timedOut(let what) = $0 { what == "no answer within 1.0 s" } else { false } }
        }
    }

    @Test func anExchangeInFlightWhenItsLoopsStopFailsAndLaterOnesAreRefused() async throws {
        let server = try ScriptedHTTPServer(scripts: [[.readAndHold]])
        defer { server.stop() }
        let loops = try EventLoopGroup(count: 1, name: "test-client")
        let client = PooledHTTPClient(loops: loops)
        let pending = Task { try await send(client, request(server), timeout: 60) }
        for _ in 0..<200 where server.requests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        try #require(!server.requests.isEmpty)
        loops.stop()
        // Not after the 60 s deadline: the stopping loop fails what it still holds.
        await #expect { try await pending.value } throws: { error in
            Self.isError(error) { $0 == .connectionClosed(beforeAnyResponseByte: true) }
        }
        await #expect { try await send(client, request(server)) } throws: { error in
            Self.isError(error) { if case .cannotConnect = $0 { true } else { false } }
        }
    }

    @Test func slowBodyTimesOut() async throws {
        let server = try ScriptedHTTPServer(scripts: [
            [.answer("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf"), .hold]
        ])
        defer { server.stop() }
        await #expect { try await send(PooledHTTPClient(), request(server), timeout: 1) } throws: { error in
            Self.isError(error) { $0 == .timedOut("answer body incomplete within 1.0 s") }
        }
    }

    @Test func refusedPortCannotConnect() async throws {
        // A bound port nobody listens on refuses connections.
        let refusing = try RefusingPort()
        defer { refusing.close() }
        let port = refusing.port
        let client = PooledHTTPClient()
        await #expect {
            try await client.send(
                HTTPClientRequest(method: "GET", host: "127.0.0.1", port: port, target: "/"),
                connectTimeout: 5, timeout: 5, maxBytes: 100)
        } throws: { error in
            Self.isError(error) { if case .cannotConnect = $0 { true } else { false } }
        }
        #expect(client.pool.openCount == 0)
    }

    @Test func bodyOverTheLimitIsTooLarge() async throws {
        let server = try ScriptedHTTPServer(scripts: [
            [.answer("HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n01234567890123456789")],
            [
                .answer(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n")
            ],
            [.answer("HTTP/1.1 200 OK\r\n\r\n01234567890123456789")],
        ])
        defer { server.stop() }
        let client = PooledHTTPClient()
        for _ in 0..<3 {
            await #expect { try await send(client, request(server), maxBytes: 10) } throws: { error in
                Self.isError(error) { $0 == .tooLarge(limit: 10) }
            }
        }
        #expect(client.pool.openCount == 0)
    }

    @Test func malformedAnswerIsInvalid() async throws {
        let server = try ScriptedHTTPServer(scripts: [
            [.answer("SPDY/3 200 OK\r\n\r\n")], [.answer("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")],
        ])
        defer { server.stop() }
        let client = PooledHTTPClient()
        for _ in 0..<2 {
            await #expect { try await send(client, request(server)) } throws: { error in
                Self.isError(error) { if case .invalidResponse = $0 { true } else { false } }
            }
        }
    }

    @Test func downloadToFile() async throws {
        var generator = SystemRandomNumberGenerator()
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        let payload = String(
            decoding: (0..<(1 << 20)).map { _ in letters[Int(generator.next() % UInt64(letters.count))] }, as: UTF8.self
        )
        let server = try ScriptedHTTPServer(scripts: [
            [
                .answer(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: \(payload.utf8.count)\r\n\r\n"
                        + payload),
                .answer("HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n01234567890123456789"),
            ]
        ])
        defer { server.stop() }
        let client = reusingClient()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pooled-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let response = try await client.download(
            request(server), to: file.path, connectTimeout: 5, by: .after(30), maxBytes: 2 << 20)
        #expect(response.status == 200 && response.body.isEmpty)
        #expect(response.value(forHeader: "Content-Type") == "image/png")
        #expect(try Data(contentsOf: file) == Data(payload.utf8))
        // Over its limit: refused, and no partial file is left.
        await #expect {
            try await client.download(request(server), to: file.path, connectTimeout: 5, by: .after(30), maxBytes: 10)
        } throws: { error in
            Self.isError(error) { $0 == .tooLarge(limit: 10) }
        }
        #expect(!FileManager.default.fileExists(atPath: file.path))
    }

    @Test func bodilessPostSendsContentLengthZero() async throws {
        let server = try ScriptedHTTPServer(otherwise: [.answerEvery(Self.ok)])
        defer { server.stop() }
        let client = reusingClient()
        _ = try await send(client, request(server, "POST", "/api/v1/boards/?board_name=b"))
        _ = try await send(client, request(server, "PUT", "/cancel"))
        _ = try await send(client, request(server, "GET", "/read"))
        let heads = server.requests.map { $0.head.lowercased() }
        #expect(heads.count == 3)
        #expect(heads[0].contains("\r\ncontent-length: 0"))
        #expect(heads[1].contains("\r\ncontent-length: 0"))
        #expect(!heads[2].contains("content-length"))
        #expect(server.acceptedConnections == 1)
    }

    @Test func concurrentRequestsAreAllAnsweredWithinTheConnectionLimit() async throws {
        let server = try ScriptedHTTPServer(otherwise: [.answerEvery(Self.ok)])
        defer { server.stop() }
        let client = PooledHTTPClient(pool: HTTPConnectionPool(maxConnections: 8))
        let bodies = try await withThrowingTaskGroup(of: Data.self) { group in
            for index in 0..<50 {
                group.addTask {
                    try await self.send(client, self.request(server, "GET", "/n/\(index)"), timeout: 60).body
                }
            }
            return try await group.reduce(into: [Data]()) { $0.append($1) }
        }
        #expect(bodies.count == 50 && bodies.allSatisfy { $0 == Data("hello".utf8) })
        #expect(server.requests.count == 50)
        #expect(server.acceptedConnections <= 8)
        #expect(client.pool.openCount <= 8)
    }

    @Test func idleConnectionToAnotherServerGivesWayAtTheLimit() async throws {
        let first = try ScriptedHTTPServer(otherwise: [.answerEvery(Self.ok)])
        let second = try ScriptedHTTPServer(otherwise: [.answerEvery(Self.ok)])
        defer { first.stop(); second.stop() }
        let client = PooledHTTPClient(pool: HTTPConnectionPool(maxConnections: 1, maxIdleAge: 600))
        _ = try await send(client, request(first))
        _ = try await send(client, request(second))
        _ = try await send(client, request(first))
        #expect(first.acceptedConnections == 2 && second.acceptedConnections == 1)
        #expect(client.pool.openCount == 1 && client.pool.idleCount == 1)
    }

    @Test func waitingForAFreeConnectionEndsAtTheDeadline() async throws {
        let server = try ScriptedHTTPServer(otherwise: [.readAndHold])
        defer { server.stop() }
        let client = PooledHTTPClient(pool: HTTPConnectionPool(maxConnections: 1))
        async let holding: HTTPClientResponse = send(client, request(server), timeout: 60)
        // The only connection is taken once the server holds its request.
        while server.requests.isEmpty { try await Task.sleep(nanoseconds: 10_000_000) }
        await #expect { try await send(client, request(server), timeout: 1) } throws: { error in
            Self.isError(error) { $0 == .timedOut("no free connection within 1.0 s (all 1 in use)") }
        }
        server.stop() // ends the held exchange
        _ = try? await holding
        #expect(server.acceptedConnections == 1)
        #expect(client.pool.openCount == 0)
    }
}
