import Foundation
import Synchronization
import TestSupport
import Testing

@testable import HTTPServer

@Suite("Streamed responses over loopback", .ownThread)
struct HTTPStreamingTests {
    @Test func streamIsChunkedOnHTTP11AndKeepsTheConnection() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let client = try TestSocket(port: port)
                try client.send("GET /stream?count=4 HTTP/1.1\r\nHost: x\r\n\r\n")
                let head = try client.readHead()
                #expect(head.header("Transfer-Encoding") == "chunked")
                // Each write arrives as it is made, not all at the end.
                #expect(try client.readChunk() == Array("part 0\n".utf8))
                var rest: [UInt8] = []
                while true {
                    let chunk = try client.readChunk()
                    if chunk.isEmpty { break }
                    rest += chunk
                }
                #expect(String(decoding: rest, as: UTF8.self) == "part 1\npart 2\npart 3\n")
                try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try client.readResponse().text == "hello")
            }
        }
    }

    @Test func streamOnHTTP10EndsWithTheConnection() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let client = try TestSocket(port: port)
                try client.send("GET /stream?count=2 HTTP/1.0\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.header("Transfer-Encoding") == nil)
                #expect(response.text == "part 0\npart 1\n")
            }
        }
    }

    @Test func slowReaderIsBoundedAndDoesNotSlowOthers() async throws {
        let offers = Mutex<[HTTPResponseWriter.OfferResult]>([])
        let closed = Mutex(false)
        var router = TestServer.router
        router.add(
            .GET, "/firehose",
            .sync { _ in
                .stream { writer in
                    writer.onClose { closed.withLock { $0 = true } }
                    let block = [UInt8](repeating: 0x41, count: 64 * 1024)
                    // Never waits for the client: a refused offer is counted and tried again later,
                    // as a fan-out would, until the connection is gone.
                    while true {
                        let result = writer.offer(block)
                        offers.withLock { $0.append(result) }
                        if result == .closed { break }
                        try? await Task.sleep(for: .milliseconds(result == .full ? 5 : 1))
                    }
                }
            })
        try await TestServer.with(
            router,
            configure: {
                $0.writeTimeout = .seconds(1); $0.streamHighWaterMark = 256 * 1024
            }
        ) { server in
            let port = server.port
            let slow = try await blocking {
                let slow = try TestSocket(port: port)
                var small: Int32 = 4096
                setsockopt(slow.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
                try slow.send("GET /firehose HTTP/1.1\r\nHost: x\r\n\r\n")
                // It never reads. Meanwhile another client is served at once.
                Thread.sleep(forTimeInterval: 0.3)
                let fast = try TestSocket(port: port)
                try fast.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try fast.readResponse().text == "hello")
                return slow
            }
            // The write timeout (1 s without progress, checked on the loop's 1 s tick) drops the
            // slow client, which stays connected (and never reads) until then.
            try await eventually(within: .seconds(15)) { closed.withLock { $0 } }
            withExtendedLifetime(slow) {}
            // The writer refused while the client lagged (bounded buffering), and the write
            // timeout dropped it: the producer's next offer (it sleeps between offers) is refused
            // as closed, and it stops.
            #expect(offers.withLock { $0.contains(.full) })
            try await eventually { offers.withLock { $0.last } == .closed }
            #expect(closed.withLock { $0 })
            #expect(server.metrics.writeTimeouts.load(ordering: .relaxed) == 1)
            #expect(server.metrics.streamsOpen.load(ordering: .relaxed) == 0)
        }
    }

    @Test func clientLeavingEndsTheStream() async throws {
        let closed = Mutex(false)
        var router = TestServer.router
        router.add(
            .GET, "/forever",
            .sync { _ in
                .stream { writer in
                    writer.onClose { closed.withLock { $0 = true } }
                    while await writer.write("tick\n") {
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
            })
        try await TestServer.with(router) { server in
            let port = server.port
            try await blocking {
                let client = try TestSocket(port: port)
                try client.send("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n")
                _ = try client.readHead()
                _ = try client.readChunk()
            }
            for _ in 0..<100 where !closed.withLock({ $0 }) {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(closed.withLock { $0 })
            #expect(server.metrics.streamsOpen.load(ordering: .relaxed) == 0)
        }
    }
}
