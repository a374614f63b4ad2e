import Foundation
import InvokeAI
import TestSupport
import Testing

/// `InvokeAIClient` over its own HTTP client, against `ScriptedHTTPServer`: what goes on the
/// wire, and how answers and failures come back as `InvokeAIError`.
@Suite(.ownThread) struct InvokeAIClientTransportTests {
    private func client(
        _ server: ScriptedHTTPServer, requestTimeout: Double = 10,
        retry: RetryPolicy = RetryPolicy(maxAttempts: 3, initialDelay: 0.01)
    ) throws -> InvokeAIClient {
        let url = try #require(URL(string: "http://127.0.0.1:\(server.port)"))
        return InvokeAIClient(
            configuration: InvokeAIClientConfiguration(baseURL: url, requestTimeout: requestTimeout, retry: retry))
    }

    private static func json(_ status: String, _ body: String, extra: String = "") -> String {
        "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\n\(extra)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    @Test func bodilessPostWithQueryIsFramedAndEncoded() async throws {
        let server = try ScriptedHTTPServer(scripts: [[.answer(Self.json("200 OK", #"{"board_id":"b1"}"#))]])
        defer { server.stop() }
        let board = try await client(server).createBoard(name: "a+b c")
        #expect(board["board_id"]?.stringValue == "b1")
        let head = try #require(server.requests.first?.head)
        #expect(head.hasPrefix("POST /api/v1/boards/?board_name=a%2Bb%20c HTTP/1.1\r\n"))
        #expect(head.lowercased().contains("\r\ncontent-length: 0"))
        #expect(head.contains("\r\nAccept: application/json"))
    }

    private func loggingInClient(_ server: ScriptedHTTPServer) throws -> InvokeAIClient {
        let url = try #require(URL(string: "http://127.0.0.1:\(server.port)"))
        return InvokeAIClient(
            configuration: InvokeAIClientConfiguration(
                baseURL: url, retry: .none, auth: .login(email: "gateway@example.test", password: "secret")))
    }

    private static func lines(_ head: String) -> [String] { head.components(separatedBy: "\r\n") }

    @Test func aRefreshedTokenReplacesTheOneHeld() async throws {
        // A multi-user InvokeAI slides the session on mutating requests: the answer's
        // X-Refreshed-Token is the token to send from then on.
        let server = try ScriptedHTTPServer(scripts: [
            [
                .answer(Self.json("200 OK", #"{"token":"first"}"#)),
                .answer(Self.json("200 OK", #"{"board_id":"b1"}"#, extra: "X-Refreshed-Token: second\r\n")),
                .answer(Self.json("200 OK", #"{"version":"6.14.2"}"#)),
            ]
        ])
        defer { server.stop() }
        let client = try loggingInClient(server)
        _ = try await client.createBoard(name: "x")
        #expect(try await client.appVersion() == "6.14.2")
        let heads = server.requests.map(\.head)
        try #require(heads.count == 3)
        #expect(heads[0].hasPrefix("POST /api/v1/auth/login HTTP/1.1\r\n"))
        #expect(!heads[0].contains("Authorization:"))
        #expect(Self.lines(heads[1]).contains("Authorization: Bearer first"))
        #expect(Self.lines(heads[2]).contains("Authorization: Bearer second"))
    }

    @Test func aRefusedTokenIsRenewedByLoggingInOnceMore() async throws {
        let server = try ScriptedHTTPServer(scripts: [
            [
                .answer(Self.json("200 OK", #"{"token":"expired"}"#)),
                .answer(Self.json("401 Unauthorized", #"{"detail":"Token expired"}"#)),
                .answer(Self.json("200 OK", #"{"token":"renewed"}"#)),
                .answer(Self.json("200 OK", #"{"version":"6.14.2"}"#)),
            ]
        ])
        defer { server.stop() }
        #expect(try await loggingInClient(server).appVersion() == "6.14.2")
        let heads = server.requests.map(\.head)
        try #require(heads.count == 4)
        #expect(Self.lines(heads[1]).contains("Authorization: Bearer expired"))
        #expect(heads[2].hasPrefix("POST /api/v1/auth/login HTTP/1.1\r\n"))
        #expect(Self.lines(heads[3]).contains("Authorization: Bearer renewed"))
    }

    @Test func transientStatusIsRetried() async throws {
        // The retry may come on the same connection or, if it aged out meanwhile, on another.
        let version = Self.json("200 OK", #"{"version":"6.14.2"}"#)
        let server = try ScriptedHTTPServer(
            scripts: [
                [
                    .answer(Self.json("503 Service Unavailable", #"{"detail":"busy"}"#, extra: "Retry-After: 0\r\n")),
                    .answer(version),
                ]
            ], otherwise: [.answer(version)])
        defer { server.stop() }
        #expect(try await client(server).appVersion() == "6.14.2")
        #expect(server.requests.count == 2)
    }

    @Test func errorStatusKeepsInvokeAIsDetail() async throws {
        // Each answer closes its connection (the scripts end), so each request has its own.
        let server = try ScriptedHTTPServer(scripts: [
            [.answer(Self.json("404 Not Found", #"{"detail":"Image not found"}"#))],
            [.answer("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")],
        ])
        defer { server.stop() }
        let client = try client(server, retry: .none)
        await #expect { try await client.image("missing.png") } throws: { error in
            guard let error = error as? InvokeAIError else { return false }
            return error.statusCode == 404 && error.description == "InvokeAI answered 404: Image not found"
        }
        await #expect { try await client.queueStatus() } throws: { error in
            guard let error = error as? InvokeAIError else { return false }
            return error.description == "InvokeAI answered 500: internal server error"
        }
    }

    @Test func silenceIsTimedOutNamingTheRequest() async throws {
        let server = try ScriptedHTTPServer(otherwise: [.readAndHold])
        defer { server.stop() }
        let client = try client(server, requestTimeout: 0.3, retry: .none)
        await #expect { try await client.appVersion() } throws: { error in
            guard let error = error as? InvokeAIError, case .timedOut(let what) = error else { return false }
            return what.hasPrefix("GET /api/v1/app/version: ")
        }
    }

    @Test func retriesOfASilentUpstreamEndWithinTheRequestTimeout() async throws {
        let server = try ScriptedHTTPServer(otherwise: [.readAndHold])
        defer { server.stop() }
        // Three attempts of 0.5 s each would take 1.5 s and more: the call as a whole gets 0.5 s.
        let client = try client(server, requestTimeout: 0.5, retry: RetryPolicy(maxAttempts: 3, initialDelay: 0.01))
        await #expect { try await client.appVersion() } throws: { error in
            guard let error = error as? InvokeAIError, case .timedOut(let what) = error else { return false }
            return what.contains("within 0.5 s")
        }
        // The first attempt used the whole bound: no retry was sent.
        #expect(server.requests.count == 1)
    }

    @Test func aCallsOwnTimeoutBoundsItBelowTheRequestTimeout() async throws {
        let server = try ScriptedHTTPServer(otherwise: [.readAndHold])
        defer { server.stop() }
        let client = try client(server, requestTimeout: 10)
        await #expect { try await client.appVersion(timeout: 0.3) } throws: { error in
            guard let error = error as? InvokeAIError, case .timedOut(let what) = error else { return false }
            return what.contains("within 0.3 s")
        }
    }

    @Test func resetBeforeAnswerIsCannotConnectAndRetriedWhenIdempotent() async throws {
        let server = try ScriptedHTTPServer(scripts: [
            [.readAndClose], [.answer(Self.json("200 OK", #"{"version":"x"}"#))],
        ])
        defer { server.stop() }
        #expect(try await client(server).appVersion() == "x")
        let refusing = try ScriptedHTTPServer(otherwise: [.readAndClose])
        defer { refusing.stop() }
        await #expect { try await client(refusing, retry: .none).appVersion() } throws: { error in
            guard let error = error as? InvokeAIError, case .cannotConnect(let why) = error else { return false }
            return why.hasPrefix("GET /api/v1/app/version: ")
        }
    }

    @Test func imageDownloadsToAFileAndErrorsAreStatuses() async throws {
        let png = "\u{89}PNG-not-really"
        let missing = Self.json("404 Not Found", #"{"detail":"Image not found"}"#)
        let server = try ScriptedHTTPServer(
            scripts: [
                [
                    .answer(
                        "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: \(png.utf8.count)\r\n\r\n\(png)"),
                    .answer(missing),
                ]
            ], otherwise: [.answer(missing)])
        defer { server.stop() }
        let client = try client(server)
        let download = try await client.downloadImage("a.png")
        defer { try? FileManager.default.removeItem(at: download.file) }
        #expect(download.contentType == "image/png")
        #expect(download.length == Int64(png.utf8.count))
        #expect(try Data(contentsOf: download.file) == Data(png.utf8))
        await #expect { try await client.downloadImage("gone.png", size: .thumbnail) } throws: { error in
            (error as? InvokeAIError)?.statusCode == 404
        }
        #expect(
            server.requests.map { $0.head.split(separator: " ")[1] } == [
                "/api/v1/images/i/a.png/full", "/api/v1/images/i/gone.png/thumbnail",
            ])
    }

    /// InvokeAI commits the batch, then answers 500: the client looks the batch up by its id and
    /// returns it (`recovered`) instead of enqueueing it again or reporting a failure.
    @Test func anEnqueueAnswered500ButCommittedIsFoundByItsBatchID() async throws {
        let server = try ScriptedHTTPServer(scripts: [
            [.answer("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")],
            [
                .answer(
                    Self.json(
                        "200 OK",
                        #"{"queue_id":"default","batch_id":"idem-1","origin":"o","destination":"d","pending":1,"in_progress":0,"waiting":0,"completed":0,"failed":0,"canceled":0,"total":1}"#
                    ))
            ],
            [.answer(Self.json("200 OK", #"{"item_ids":[42,41],"total_count":2}"#))],
            [
                .answer(
                    Self.json(
                        "200 OK",
                        #"[{"item_id":42,"batch_id":"idem-1","status":"pending","created_at":"2026-12-01 10:00:00","started_at":null,"completed_at":null,"origin":"o","destination":"d","user_id":"system","user_display_name":null,"user_email":null,"field_values":null,"parent_item_id":null},{"item_id":41,"batch_id":"other","status":"completed","created_at":"2026-12-01 09:00:00","started_at":null,"completed_at":null,"origin":"o","destination":"d","user_id":"system","user_display_name":null,"user_email":null,"field_values":null,"parent_item_id":null}]"#
                    ))
            ],
        ])
        defer { server.stop() }
        let result = try await client(server).enqueueBatch(
            body: Array(#"{"prepend":false,"batch":{"batch_id":"idem-1"}}"#.utf8), batchId: "idem-1")
        #expect(result.recovered)
        #expect(result.batchId == "idem-1")
        #expect(result.itemIds == [42])
        #expect(server.requests.filter { $0.head.hasPrefix("POST /api/v1/queue/default/enqueue_batch") }.count == 1)
    }

    /// When InvokeAI cannot be asked afterwards, the failure names the batch, so the caller can
    /// say which run may exist.
    @Test func anAmbiguousEnqueueThatCannotBeCheckedNamesItsBatch() async throws {
        let server = try ScriptedHTTPServer(
            scripts: [[.answer("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")]],
            otherwise: [.answer("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")])
        defer { server.stop() }
        let client = try client(server, retry: RetryPolicy(maxAttempts: 2, initialDelay: 0.01))
        await #expect { try await client.enqueueBatch(body: Array("{}".utf8), batchId: "idem-2") } throws: { error in
            guard case .ambiguousEnqueue(let batch, _)? = error as? InvokeAIError else { return false }
            return batch == "idem-2"
        }
    }
}
