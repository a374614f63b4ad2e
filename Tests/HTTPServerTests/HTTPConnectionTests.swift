import Foundation
import TestSupport
import Testing

@testable import HTTPServer

@Suite("HTTP/1.1 over loopback", .ownThread)
struct HTTPConnectionTests {
    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let client = try TestSocket(port: port)
                for i in 0..<5 {
                    try client.send("GET /items/\(i) HTTP/1.1\r\nHost: x\r\n\r\n")
                    let response = try client.readResponse()
                    #expect(response.status == 200)
                    #expect(response.text == "item \(i)")
                    #expect(response.header("Connection") == nil)
                    #expect(response.header("Date") != nil)
                }
            }
            #expect(server.metrics.connectionsAccepted.load(ordering: .relaxed) == 1)
            #expect(server.metrics.requests.load(ordering: .relaxed) == 5)
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let client = try TestSocket(port: port)
                // The slow one comes first: its answer must still come first.
                try client.send(
                    "GET /slow?ms=150 HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde"
                        + "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nfoo\r\n0\r\nTrailer: t\r\n\r\n"
                        + "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try client.readResponse().text == "slept 150")
                #expect(try client.readResponse().text == "abcde")
                #expect(try client.readResponse().text == "foo")
                #expect(try client.readResponse().text == "hello")
            }
        }
    }

    @Test func largeBodiesInBothDirections() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let client = try TestSocket(port: port)
                let body = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
                try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n")
                try client.send(body)
                let response = try client.readResponse()
                #expect(response.status == 200)
                #expect(response.body == body)
            }
        }
    }

    @Test func headAnnouncesLengthWithoutBody() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let client = try TestSocket(port: port)
                try client.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                let head = try client.readResponse(head: true)
                #expect(head.status == 200)
                #expect(head.header("Content-Length") == "5")
                // The next response must start right after the head: no stray body bytes.
                try client.send("GET /items/7 HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try client.readResponse().text == "item 7")
            }
        }
    }

    @Test func expectContinueGetsInterimResponse() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let client = try TestSocket(port: port)
                try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
                let interim = try client.readHead()
                #expect(interim.status == 100)
                try client.send("ping")
                let response = try client.readResponse()
                #expect(response.status == 200)
                #expect(response.text == "ping")
            }
        }
    }

    @Test func http10ClosesUnlessKeepAliveIsAsked() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let plain = try TestSocket(port: port)
                try plain.send("GET /hello HTTP/1.0\r\n\r\n")
                let first = try plain.readResponse()
                #expect(first.text == "hello")
                #expect(first.header("Connection") == "close")
                #expect(plain.isClosedByServer())

                let kept = try TestSocket(port: port)
                try kept.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                #expect(try kept.readResponse().header("Connection") == "keep-alive")
                try kept.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                #expect(try kept.readResponse().text == "hello")
            }
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let client = try TestSocket(port: port)
                try client.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.header("Connection") == "close")
                #expect(client.isClosedByServer())
            }
        }
    }

    @Test func servesIPv6() async throws {
        try await TestServer.with(TestServer.router, configure: { $0.host = "::1" }) { server in
            let port = server.port
            #expect(server.addresses.first?.description == "[::1]:\(port)")
            try await blocking {
                let client = try TestSocket(host: "::1", port: port)
                try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try client.readResponse().text == "hello")
            }
        }
    }

    @Test func dualStackWildcardServesBothFamilies() async throws {
        try await TestServer.with(TestServer.router, configure: { $0.host = "::" }) { server in
            let port = server.port
            try await blocking {
                for host in ["127.0.0.1", "::1"] {
                    let client = try TestSocket(host: host, port: port)
                    try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                    #expect(try client.readResponse().text == "hello")
                }
            }
        }
    }

    @Test func clientsThatVanishMidRequestLeaveNoDescriptorBehind() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                for i in 0..<50 {
                    let client = try TestSocket(port: port)
                    switch i % 4 {
                    case 0: try client.send("GET /hel") // half a head
                    case 1: try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
                    case 2: try client.send("GET /slow?ms=50 HTTP/1.1\r\nHost: x\r\n\r\n")
                    default: try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"); _ = try client.readResponse()
                    }
                }
            }
            // The server notices each departure on its loops' next turns: under the parallel test
            // run's load that took over 2 s once, so wait until both counts reach 0 (a descriptor
            // really left behind never does, and fails the wait).
            try? await eventually(within: .seconds(30)) {
                server.metrics.connectionsOpen.load(ordering: .relaxed) == 0 && acceptedSocketsOpen(port: port) == 0
            }
            #expect(server.metrics.connectionsOpen.load(ordering: .relaxed) == 0)
            #expect(acceptedSocketsOpen(port: port) == 0)
        }
    }
}

/// Accepted (non-listening) TCP sockets still open on the server side of `port`, from
/// /proc/net/tcp{,6}. A socket whose descriptor was closed has inode 0 (TIME_WAIT) or is gone,
/// so this counts exactly the descriptors a server still holds, whatever else the process does.
func acceptedSocketsOpen(port: Int) -> Int {
    var count = 0
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 9 else { continue }
            let local = fields[1].split(separator: ":")
            guard local.count == 2, Int(local[1], radix: 16) == port else { continue }
            let state = fields[3], inode = fields[9]
            if state != "0A" && inode != "0" { count += 1 }
        }
    }
    return count
}
