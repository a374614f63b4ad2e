import Foundation
import TestSupport
import Testing

@testable import InvokeAI

/// The loop-driven WebSocket client against a scripted loopback peer: the handshake, messages,
/// control frames answered on the loop, silence and closes, without InvokeAI.
@Suite(.ownThread) struct WebSocketClientTests {
    private static func frame(_ opcode: WebSocketOpcode, _ text: String = "") -> [UInt8] {
        WebSocketFrameCodec.encode(WebSocketFrame(opcode: opcode, payload: Array(text.utf8)), mask: nil)
    }

    private static func connect(_ server: ScriptedHTTPServer) async throws -> WebSocketClient {
        var options = WebSocketClient.Options()
        options.connectTimeout = 2
        options.handshakeTimeout = 2
        return try await WebSocketClient.connect(host: "127.0.0.1", port: server.port, path: "/ws", options: options)
    }

    @Test func messagesArriveInOrderAndAPingIsAnsweredWithItsPayload() async throws {
        let server = try ScriptedHTTPServer(scripts: [
            [
                .acceptWebSocket(then: Self.frame(.text, "one") + Self.frame(.ping, "beat") + Self.frame(.text, "two")),
                .recordRaw(seconds: 1),
            ]
        ])
        defer { server.stop() }
        let client = try await Self.connect(server)
        #expect(try await client.receive(timeout: 2) == .text("one"))
        #expect(try await client.receive(timeout: 2) == .text("two"))
        try await client.send(text: "hello")
        try await Task.sleep(for: .seconds(1.2))
        // What the client sent after the handshake: the pong (masked), then the text frame.
        var codec = WebSocketFrameCodec(maxFramePayload: 1 << 16, expectMasked: true)
        codec.append(server.rawBytes)
        #expect(try codec.nextFrame() == WebSocketFrame(opcode: .pong, payload: Array("beat".utf8)))
        #expect(try codec.nextFrame() == WebSocketFrame(opcode: .text, payload: Array("hello".utf8)))
        client.close()
    }

    @Test func aConsumerThatFallsBehindPausesReadingAndLosesNothing() async throws {
        let count = WebSocketClient.maxInboxMessages * 3
        // 200-byte messages: one 64 KiB read holds about 320 of them.
        let padding = String(repeating: "x", count: 190)
        let frames = (0..<count).flatMap { Self.frame(.text, "m\($0) \(padding)") }
        let server = try ScriptedHTTPServer(scripts: [[.acceptWebSocket(then: frames), .hold]])
        defer { server.stop() }
        let client = try await Self.connect(server)
        try await Task.sleep(for: .milliseconds(500))
        // Nothing received yet: the inbox holds at most its limit plus one read's worth of frames.
        #expect(try client.bufferedMessageCount() < WebSocketClient.maxInboxMessages + 400)
        #expect(try client.bufferedMessageCount() >= WebSocketClient.maxInboxMessages)
        for index in 0..<count {
            let message = try await client.receive(timeout: 5)
            if message != .text("m\(index) \(padding)") {
                Issue.record("message \(index) is \(message)")
                break
            }
        }
        client.shutdown()
    }

    @Test func silenceLongerThanTheTimeoutEndsTheReceive() async throws {
        let server = try ScriptedHTTPServer(scripts: [[.acceptWebSocket(then: []), .hold]])
        defer { server.stop() }
        let client = try await Self.connect(server)
        let error = await #expect(throws: WebSocketError.self) { try await client.receive(timeout: 0.3) }
        #expect(error == .timedOut("no frame within 0.3 s"))
        client.shutdown()
    }

    @Test func aCloseFromThePeerIsEchoedAndReported() async throws {
        let closing = WebSocketFrameCodec.encode(.close(code: 1001, reason: "going away"), mask: nil)
        let server = try ScriptedHTTPServer(scripts: [[.acceptWebSocket(then: closing), .recordRaw(seconds: 0.5)]])
        defer { server.stop() }
        let client = try await Self.connect(server)
        let error = await #expect(throws: WebSocketError.self) { try await client.receive(timeout: 2) }
        #expect(error == .closed(code: 1001, reason: "going away"))
        // Sending after the close is refused rather than lost silently.
        await #expect(throws: WebSocketError.self) { try await client.send(text: "late") }
        try await Task.sleep(for: .seconds(0.6))
        var codec = WebSocketFrameCodec(maxFramePayload: 1 << 16, expectMasked: true)
        codec.append(server.rawBytes)
        #expect(try codec.nextFrame()?.opcode == .close)
    }

    @Test func aRefusedUpgradeFailsTheConnectWithTheServersStatus() async throws {
        let server = try ScriptedHTTPServer(scripts: [[.answer("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")]])
        defer { server.stop() }
        let error = await #expect(throws: WebSocketError.self) { _ = try await Self.connect(server) }
        #expect(error == .handshakeFailed("server answered HTTP/1.1 403 Forbidden"))
    }

    @Test func noHandshakeAnswerTimesOut() async throws {
        let server = try ScriptedHTTPServer(scripts: [[.readAndHold]])
        defer { server.stop() }
        let error = await #expect(throws: WebSocketError.self) { _ = try await Self.connect(server) }
        #expect(error == .timedOut("no handshake answer within 2.0 s"))
    }

    @Test func aRefusedConnectionIsAnIOError() async throws {
        // A port nothing listens on: bind one, learn its number, close it.
        let server = try ScriptedHTTPServer()
        let port = server.port
        server.stop()
        try await Task.sleep(for: .milliseconds(100))
        await #expect(throws: WebSocketError.self) {
            _ = try await WebSocketClient.connect(host: "127.0.0.1", port: port, path: "/ws")
        }
    }
}
