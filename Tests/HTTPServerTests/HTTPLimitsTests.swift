import Foundation
import TestSupport
import Testing

@testable import HTTPServer

@Suite("Limits and timeouts over loopback", .ownThread)
struct HTTPLimitsTests {
    @Test func oversizedHeadersGet431AndClose() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let client = try TestSocket(port: port)
                let filler = String(repeating: "a", count: 17 * 1024)
                try client.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Filler: \(filler)\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.status == 431)
                #expect(response.header("Content-Type") == "application/problem+json")
                #expect(response.header("Connection") == "close")
                #expect(client.isClosedByServer())
            }
            #expect(server.metrics.headersTooLarge.load(ordering: .relaxed) == 1)
        }
    }

    @Test func oversizedBodyGets413BeforeItIsSent() async throws {
        try await TestServer.with(TestServer.router, configure: { $0.limits.maxBodyBytes = 1000 }) { server in
            let port = server.port
            try await blocking {
                // With Expect: 100-continue the client never has to send the body.
                let client = try TestSocket(port: port)
                try client.send(
                    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\nExpect: 100-continue\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.status == 413)
                #expect(response.text.contains("1000"))
                #expect(client.isClosedByServer())

                // A chunked body is refused as soon as it passes the limit.
                let chunked = try TestSocket(port: port)
                try chunked.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                try chunked.send("200\r\n" + String(repeating: "z", count: 512) + "\r\n")
                try chunked.send("200\r\n" + String(repeating: "z", count: 512) + "\r\n")
                #expect(try chunked.readResponse().status == 413)

                // Exactly at the limit is fine.
                let fits = try TestSocket(port: port)
                try fits.send(
                    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
                        + String(repeating: "y", count: 1000))
                #expect(try fits.readResponse().body.count == 1000)
            }
            #expect(server.metrics.bodiesTooLarge.load(ordering: .relaxed) == 2)
        }
    }

    @Test func malformedRequestsGet400AndTheServerStaysSane() async throws {
        let malformed = [
            "GET /hello HTTP/1.1\nHost: x\n\n", // bare LF
            "GET  /hello HTTP/1.1\r\nHost: x\r\n\r\n", // double space
            "GET /hello HTTP/1.1\r\nHost x\r\n\r\n", // no colon
            "GET /hello HTTP/1.1\r\n\r\n", // no Host
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "GET /he\u{0}llo HTTP/1.1\r\nHost: x\r\n\r\n",
            "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\u{00}\u{01}\u{fc}\u{03}\u{03}\r\n\r\n", // TLS hello on a plain port
        ]
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                for request in malformed {
                    let client = try TestSocket(port: port)
                    try client.send(request)
                    let response = try client.readResponse()
                    #expect(response.status == 400, "\(request.debugDescription)")
                    #expect(response.header("Content-Type") == "application/problem+json")
                    #expect(client.isClosedByServer(), "\(request.debugDescription)")
                }
                // Other connections are untouched.
                let healthy = try TestSocket(port: port)
                try healthy.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try healthy.readResponse().text == "hello")
            }
            #expect(server.metrics.malformedRequests.load(ordering: .relaxed) == malformed.count)
        }
    }

    @Test func problemDocumentsFollowRFC9457() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let client = try TestSocket(port: port)
                try client.send("GET /fail HTTP/1.1\r\nHost: x\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.status == 422)
                let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
                #expect(json?["status"] as? Int == 422)
                // The status's kind when the thrower names none: its stable title and relative URI.
                #expect(json?["title"] as? String == "Invalid request")
                #expect(json?["detail"] as? String == "bad value")
                #expect(json?["type"] as? String == "/problems/invalid-request")
                #expect(json?["instance"] as? String == "/fail")
                #expect(response.headers["cache-control"] == "no-store")
                #expect(json?["errors"] as? [String] == ["x"])
            }
        }
    }

    @Test func slowHeadersGet408() async throws {
        try await TestServer.with(TestServer.router, configure: { $0.headerTimeout = .seconds(1) }) { server in
            let port = server.port
            try await blocking {
                let client = try TestSocket(port: port)
                // A slowloris: a byte now and then, never the end of the head.
                try client.send("GET /hello HTTP/1.1\r\n")
                for _ in 0..<4 {
                    Thread.sleep(forTimeInterval: 0.5)
                    _ = try? client.send("X")
                }
                let response = try client.readResponse()
                #expect(response.status == 408)
                #expect(client.isClosedByServer())
            }
            #expect(server.metrics.requestTimeouts.load(ordering: .relaxed) == 1)
        }
    }

    @Test func stalledBodyGets408() async throws {
        try await TestServer.with(TestServer.router, configure: { $0.bodyTimeout = .seconds(1) }) { server in
            let port = server.port
            try await blocking {
                let client = try TestSocket(port: port)
                try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
                let response = try client.readResponse()
                #expect(response.status == 408)
            }
        }
    }

    @Test func aTrickledBodyGets408AtItsDeadline() async throws {
        try await TestServer.with(
            TestServer.router,
            configure: {
                $0.bodyTimeout = .seconds(1)
                $0.bodyDeadline = .seconds(2)
            }
        ) { server in
            let port = server.port
            try await blocking {
                let client = try TestSocket(port: port)
                try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
                // A byte every 0.4 s for 4.8 s: never a stall, never the end. (A closing server
                // still reads what comes, so the sends go on.)
                for _ in 0..<12 {
                    Thread.sleep(forTimeInterval: 0.4)
                    _ = try? client.send("x")
                }
                let response = try client.readResponse()
                #expect(response.status == 408)
                // The body's deadline, not its stall timeout, refused it.
                #expect(response.text.contains("not received in full within 2"))
            }
            #expect(server.metrics.requestTimeouts.load(ordering: .relaxed) == 1)
        }
    }

    @Test func idleKeepAliveConnectionsAreClosed() async throws {
        try await TestServer.with(TestServer.router, configure: { $0.idleTimeout = .seconds(1) }) { server in
            let port = server.port
            try await blocking {
                let client = try TestSocket(port: port)
                try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try client.readResponse().status == 200)
                Thread.sleep(forTimeInterval: 2.5)
                #expect(client.isClosedByServer())
            }
            #expect(server.metrics.idleTimeouts.load(ordering: .relaxed) == 1)
        }
    }

    @Test func connectionsBeyondTheLimitAreRefused() async throws {
        try await TestServer.with(
            TestServer.router,
            configure: {
                $0.maxConnections = 2; $0.eventLoopCount = 1
            }
        ) { server in
            let port = server.port
            try await blocking {
                let a = try TestSocket(port: port)
                let b = try TestSocket(port: port)
                for client in [a, b] {
                    try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                    #expect(try client.readResponse().status == 200)
                }
                let c = try TestSocket(port: port)
                #expect(c.isClosedByServer())
            }
            #expect(server.metrics.connectionsRejected.load(ordering: .relaxed) == 1)
        }
    }
}
