import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

@testable import HTTPServer

/// h2c with exact frames: settings, HEAD, limits, resets, malformed input and shutdown. After
/// each connection error another connection must still be served.
@Suite("HTTP/2 frames and errors", .ownThread)
struct HTTP2ProtocolTests {
    typealias Raw = HTTP2RawClient

    /// GET /hello on a fresh connection (the server survived whatever came before).
    static func stillServes(_ port: Int) throws -> Bool {
        let client = try Raw(port: port)
        try client.handshake()
        try client.sendHeaders(stream: 1, Raw.request("GET", "/hello"), endStream: true)
        let frames = try client.readUntil { $0.stream == 1 && $0.isEndStream }
        let body = frames.filter { $0.type == Raw.FrameType.data }.flatMap(\.payload)
        return frames.first { $0.type == Raw.FrameType.headers }?.field(":status") == "200"
            && body == Array("hello".utf8)
    }

    /// Polls `condition` for up to 5 s (a deadline for failing, not a timing assertion).
    static func eventually(_ condition: @Sendable () -> Bool) async -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test func settingsAdvertiseLimitsAndHeadHasNoBody() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let client = try Raw(port: port)
                try client.handshake()
                let settings = Dictionary(client.serverSettings, uniquingKeysWith: { $1 })
                #expect(settings[0x3] == 512) // MAX_CONCURRENT_STREAMS
                #expect(settings[0x4] == 1_048_576) // INITIAL_WINDOW_SIZE
                #expect(settings[0x6] == 16_384) // MAX_HEADER_LIST_SIZE = maxHeaderBytes
                try client.sendHeaders(stream: 1, Raw.request("HEAD", "/hello"), endStream: true)
                let frames = try client.readUntil { $0.stream == 1 && $0.isEndStream }
                let streamFrames = frames.filter { $0.stream == 1 }
                #expect(streamFrames.count == 1)
                #expect(streamFrames[0].type == Raw.FrameType.headers)
                #expect(streamFrames[0].field(":status") == "200")
                #expect(streamFrames[0].field("content-length") == "5")
            }
        }
    }

    @Test func prefaceFollowedByAnotherFrameThanSettingsIsAProtocolError() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let client = try Raw(port: port)
                try client.send(Raw.preface + Raw.frame(Raw.FrameType.ping, stream: 0, [UInt8](repeating: 1, count: 8)))
                let frames = try client.readToEnd()
                let goAway = frames.first { $0.type == Raw.FrameType.goAway }
                #expect(goAway?.errorCode == Raw.ErrorCode.protocolError)
                #expect(try Self.stillServes(port))
            }
        }
    }

    @Test func almostAPrefaceIsAnsweredAsHTTP11() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let client = try TestSocket(port: port)
                try client.send("PRI * HTTP/2.0\r\n\r\nXY\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.status == 505)
                #expect(client.isClosedByServer())
                #expect(try Self.stillServes(port))
            }
        }
    }

    @Test func dataOnAClosedStreamIsAStreamClosedError() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let client = try Raw(port: port)
                try client.handshake()
                try client.sendHeaders(stream: 1, Raw.request("GET", "/hello"), endStream: true)
                _ = try client.readUntil { $0.stream == 1 && $0.isEndStream }
                try client.sendFrame(Raw.FrameType.data, stream: 1, Array("late".utf8))
                let frames = try client.readToEnd()
                let goAway = frames.first { $0.type == Raw.FrameType.goAway }
                #expect(goAway?.errorCode == Raw.ErrorCode.streamClosed)
                #expect(try Self.stillServes(port))
            }
        }
    }

    @Test func dataOnAnIdleStreamIsAProtocolError() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let client = try Raw(port: port)
                try client.handshake()
                try client.sendFrame(Raw.FrameType.data, stream: 5, Array("nobody asked".utf8))
                let goAway = try client.readToEnd().first { $0.type == Raw.FrameType.goAway }
                #expect(goAway?.errorCode == Raw.ErrorCode.protocolError)
                #expect(try Self.stillServes(port))
            }
        }
    }

    @Test func dataBeyondTheStreamWindowResetsTheStreamOnly() async throws {
        try await TestServer.with(TestServer.router, configure: { $0.http2.initialStreamWindowSize = 1024 }) { server in
            let port = server.port
            try await blocking {
                let client = try Raw(port: port)
                try client.handshake()
                try client.sendHeaders(stream: 1, Raw.request("POST", "/echo"), endStream: false)
                // 4096 bytes where the server granted 1024.
                try client.sendFrame(
                    Raw.FrameType.data, flags: Raw.Flag.endStream, stream: 1, [UInt8](repeating: 7, count: 4096))
                let frames = try client.readUntil {
                    $0.type == Raw.FrameType.rstStream || $0.type == Raw.FrameType.goAway
                }
                #expect(frames.last?.type == Raw.FrameType.rstStream)
                #expect(frames.last?.stream == 1)
                #expect(frames.last?.errorCode == Raw.ErrorCode.flowControl)
                // The connection goes on.
                try client.sendHeaders(stream: 3, Raw.request("GET", "/hello"), endStream: true)
                let next = try client.readUntil { $0.stream == 3 && $0.isEndStream }
                #expect(next.first { $0.stream == 3 && $0.type == Raw.FrameType.headers }?.field(":status") == "200")
            }
        }
    }

    @Test func windowUpdateOverflowIsAFlowControlError() async throws {
        try await TestServer.with(TestServer.router) { server in
            let port = server.port
            try await blocking {
                let client = try Raw(port: port)
                try client.handshake()
                try client.sendFrame(Raw.FrameType.windowUpdate, stream: 0, Raw.be32(0x7FFF_FFFF))
                let goAway = try client.readToEnd().first { $0.type == Raw.FrameType.goAway }
                #expect(goAway?.errorCode == Raw.ErrorCode.flowControl)
                #expect(try Self.stillServes(port))
            }
        }
    }

    @Test func oversizedHeaderListGets431OnThatStreamOnly() async throws {
        try await TestServer.with(TestServer.router, configure: { $0.limits.maxHeaderBytes = 1024 }) { server in
            let port = server.port
            try await blocking {
                let client = try Raw(port: port)
                try client.handshake()
                try client.sendHeaders(
                    stream: 1, Raw.request("GET", "/hello", [("x-big", String(repeating: "b", count: 2000))]),
                    endStream: true)
                let frames = try client.readUntil { $0.stream == 1 && $0.isEndStream }
                #expect(frames.first { $0.stream == 1 && $0.type == Raw.FrameType.headers }?.field(":status") == "431")
                try client.sendHeaders(stream: 3, Raw.request("GET", "/hello"), endStream: true)
                let next = try client.readUntil { $0.stream == 3 && $0.isEndStream }
                #expect(next.first { $0.stream == 3 && $0.type == Raw.FrameType.headers }?.field(":status") == "200")
            }
        }
    }

    @Test func refusedUploadIsAnsweredThenReset() async throws {
        try await TestServer.with(TestServer.router, configure: { $0.limits.maxBodyBytes = 1000 }) { server in
            let port = server.port
            try await blocking {
                let client = try Raw(port: port)
                try client.handshake()
                try client.sendHeaders(stream: 1, Raw.request("POST", "/echo"), endStream: false)
                try client.sendFrame(Raw.FrameType.data, stream: 1, [UInt8](repeating: 1, count: 2000))
                let answer = try client.readUntil { $0.stream == 1 && $0.isEndStream }
                #expect(answer.first { $0.stream == 1 && $0.type == Raw.FrameType.headers }?.field(":status") == "413")
                // The client keeps sending past what the server discards: the stream is reset.
                for _ in 0..<80 {
                    try client.sendFrame(Raw.FrameType.data, stream: 1, [UInt8](repeating: 1, count: 16_000))
                }
                let reset = try client.readUntil {
                    $0.type == Raw.FrameType.rstStream || $0.type == Raw.FrameType.goAway
                }
                #expect(reset.last?.type == Raw.FrameType.rstStream)
                #expect(reset.last?.stream == 1)
                #expect(reset.last?.errorCode == Raw.ErrorCode.noError)
                #expect(server.metrics.bodiesTooLarge.load(ordering: .relaxed) == 1)
            }
        }
    }

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    @Test func slowReaderDoesNotMakeTheServerBufferEveryResponse() async throws {
        let dispatched = Counter()
        var router = TestServer.router
        router.add(
            .GET, "/mebibyte",
            .sync { _ in
                dispatched.value.add(1, ordering: .relaxed)
                return HTTPResponse(status: .ok, bytes: [UInt8](repeating: 0x6D, count: 1 << 20))
            })
        router.add(.GET, "/dispatched", .sync { _ in .text(String(dispatched.value.load(ordering: .relaxed))) })
        // One loop: the second connection is served after the first one's requests were read.
        try await TestServer.with(router, configure: { $0.eventLoopCount = 1 }) { server in
            let port = server.port
            let (seenEarly, bodies) = try await blocking { () throws -> (String?, [Int]) in
                let client = try Raw(port: port)
                try client.handshake()
                // 20 requests in one write; the client's windows (64 KiB) stay closed for now.
                var burst: [UInt8] = []
                for i in 0..<20 {
                    burst += Raw.frame(
                        Raw.FrameType.headers, flags: Raw.Flag.endHeaders | Raw.Flag.endStream,
                        stream: UInt32(1 + 2 * i), Raw.headerBlock(Raw.request("GET", "/mebibyte")))
                }
                try client.send(burst)
                _ = try client.readUntil { $0.stream == 1 && $0.type == Raw.FrameType.headers }
                let probe = try Raw(port: port)
                try probe.handshake()
                try probe.sendHeaders(stream: 1, Raw.request("GET", "/dispatched"), endStream: true)
                let answer = try probe.readUntil { $0.stream == 1 && $0.isEndStream }
                let seen = String(
                    decoding: answer.filter { $0.type == Raw.FrameType.data }.flatMap(\.payload), as: UTF8.self)
                // Now open the windows: every response must still arrive whole.
                try client.sendFrame(Raw.FrameType.settings, stream: 0, [0x00, 0x04] + Raw.be32(0x7FFF_FFFF))
                try client.sendFrame(Raw.FrameType.windowUpdate, stream: 0, Raw.be32(0x7FFF_0000))
                var sizes: [UInt32: Int] = [:]
                var ended = Set<UInt32>()
                while ended.count < 20 {
                    guard let frame = try client.readFrame() else { break }
                    if frame.type == Raw.FrameType.data { sizes[frame.stream, default: 0] += frame.payload.count }
                    if frame.isEndStream { ended.insert(frame.stream) }
                }
                return (seen, ended.sorted().map { sizes[$0] ?? 0 })
            }
            let early = Int(seenEarly ?? "") ?? -1
            #expect(
                early >= 1 && early < 20, "requests handed to the responder while the client read nothing: \(early)")
            #expect(bodies == [Int](repeating: 1 << 20, count: 20))
            #expect(dispatched.value.load(ordering: .relaxed) == 20)
        }
    }

    @Test func clientThatKeepsItsWindowShutIsDropped() async throws {
        var router = TestServer.router
        router.add(
            .GET, "/mebibyte", .sync { _ in HTTPResponse(status: .ok, bytes: [UInt8](repeating: 0x6D, count: 1 << 20)) }
        )
        try await TestServer.with(router, configure: { $0.writeTimeout = .milliseconds(500) }) { server in
            let port = server.port
            let frames = try await blocking { () throws -> [Raw.Frame] in
                let client = try Raw(port: port)
                try client.handshake()
                try client.sendHeaders(stream: 1, Raw.request("GET", "/mebibyte"), endStream: true)
                // Reads what the 64 KiB window lets through, never grants more: the server gives up.
                return try client.readToEnd()
            }
            let received = frames.filter { $0.type == Raw.FrameType.data }.reduce(0) { $0 + $1.payload.count }
            #expect(received == 65_535)
            #expect(server.metrics.writeTimeouts.load(ordering: .relaxed) == 1)
        }
    }

    @Test func stalledBodyGets408AndTheConnectionGoesOn() async throws {
        try await TestServer.with(TestServer.router, configure: { $0.bodyTimeout = .milliseconds(300) }) { server in
            let port = server.port
            let (status, next) = try await blocking { () throws -> (String?, String?) in
                let client = try Raw(port: port)
                try client.handshake()
                try client.sendHeaders(stream: 1, Raw.request("POST", "/echo"), endStream: false)
                try client.sendFrame(Raw.FrameType.data, stream: 1, Array("part of it".utf8))
                let answer = try client.readUntil {
                    $0.stream == 1 && ($0.isEndStream || $0.type == Raw.FrameType.rstStream)
                }
                try client.sendHeaders(stream: 3, Raw.request("GET", "/hello"), endStream: true)
                let after = try client.readUntil { $0.stream == 3 && $0.isEndStream }
                return (
                    answer.first { $0.stream == 1 && $0.type == Raw.FrameType.headers }?.field(":status"),
                    after.first { $0.stream == 3 && $0.type == Raw.FrameType.headers }?.field(":status")
                )
            }
            #expect(status == "408")
            #expect(next == "200")
            #expect(server.metrics.requestTimeouts.load(ordering: .relaxed) == 1)
        }
    }

    @Test func headerBlockLeftOpenEndsTheConnection() async throws {
        try await TestServer.with(TestServer.router, configure: { $0.headerTimeout = .milliseconds(300) }) { server in
            let port = server.port
            let frames = try await blocking { () throws -> [Raw.Frame] in
                let client = try Raw(port: port)
                try client.handshake()
                // HEADERS without END_HEADERS: nothing else may be sent on the connection until
                // the CONTINUATION that never comes.
                try client.sendFrame(
                    Raw.FrameType.headers, flags: Raw.Flag.endStream, stream: 1,
                    Raw.headerBlock(Raw.request("GET", "/hello")))
                return try client.readToEnd()
            }
            #expect(frames.contains { $0.type == Raw.FrameType.goAway })
            #expect(server.metrics.requestTimeouts.load(ordering: .relaxed) == 1)
            #expect(try await blocking { try Self.stillServes(port) })
        }
    }

    @Test func clientResetEndsTheProducer() async throws {
        let closed = HTTP2ClientTests.Gate()
        var router = TestServer.router
        router.add(
            .GET, "/forever",
            .sync { _ in
                .stream { writer in
                    while await writer.write("tick\n") { try? await Task.sleep(for: .milliseconds(10)) }
                    closed.isOpen.withLock { $0 = true }
                }
            })
        try await TestServer.with(router) { server in
            let port = server.port
            let status = try await blocking { () throws -> String? in
                let client = try Raw(port: port)
                try client.handshake()
                try client.sendHeaders(stream: 1, Raw.request("GET", "/forever"), endStream: true)
                _ = try client.readUntil { $0.stream == 1 && $0.type == Raw.FrameType.data }
                try client.sendFrame(Raw.FrameType.rstStream, stream: 1, Raw.be32(0x8)) // CANCEL
                try client.sendHeaders(stream: 3, Raw.request("GET", "/hello"), endStream: true)
                let next = try client.readUntil { $0.stream == 3 && $0.isEndStream }
                return next.first { $0.stream == 3 && $0.type == Raw.FrameType.headers }?.field(":status")
            }
            #expect(status == "200")
            // The producer learns that its stream is gone (its writes are refused).
            let metrics = server.metrics
            #expect(await Self.eventually { closed.isOpen.withLock { $0 } })
            #expect(await Self.eventually { metrics.streamsOpen.load(ordering: .relaxed) == 0 })
        }
    }

    @Test func idleConnectionGetsGoAway() async throws {
        try await TestServer.with(TestServer.router, configure: { $0.idleTimeout = .milliseconds(500) }) { server in
            let port = server.port
            try await blocking {
                let client = try Raw(port: port)
                try client.handshake()
                let frames = try client.readToEnd()
                let goAway = frames.first { $0.type == Raw.FrameType.goAway }
                #expect(goAway?.errorCode == Raw.ErrorCode.noError)
            }
        }
    }

    @Test func shutdownSendsGoAwayAndLetsStreamsFinish() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .error
        var router = TestServer.router
        router.add(
            .GET, "/forever",
            .sync { _ in
                .stream { writer in
                    while await writer.write("tick\n") { try? await Task.sleep(for: .milliseconds(20)) }
                }
            })
        let server = try HTTPServer(
            configuration: HTTPServerConfiguration(
                host: "127.0.0.1", port: 0, eventLoopCount: 1, shutdownGracePeriod: .seconds(30)),
            responder: router, logger: logger)
        try server.start()
        let port = server.port
        let client = try await blocking {
            let client = try Raw(port: port)
            try client.handshake()
            try client.sendHeaders(stream: 1, Raw.request("GET", "/slow?ms=3000"), endStream: true)
            try client.sendHeaders(stream: 3, Raw.request("GET", "/forever"), endStream: true)
            _ = try client.readUntil { $0.stream == 3 && $0.type == Raw.FrameType.data }
            return client
        }
        async let stopping: Void = server.shutdown()
        let frames = try await blocking { try client.readToEnd() }
        await stopping
        let goAway = frames.first { $0.type == Raw.FrameType.goAway }
        #expect(goAway?.errorCode == Raw.ErrorCode.noError)
        #expect(goAway.map { Raw.uint32($0.payload, at: 0) } == 3) // last stream processed
        // The request in flight is answered in full; the event stream ends cleanly.
        let slowBody = frames.filter { $0.stream == 1 && $0.type == Raw.FrameType.data }.flatMap(\.payload)
        #expect(String(decoding: slowBody, as: UTF8.self) == "slept 3000")
        #expect(frames.contains { $0.stream == 1 && $0.isEndStream })
        #expect(frames.contains { $0.stream == 3 && $0.isEndStream })
        #expect(!frames.contains { $0.type == Raw.FrameType.rstStream })
    }
}
