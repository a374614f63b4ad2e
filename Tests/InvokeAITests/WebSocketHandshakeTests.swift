import Testing

@testable import InvokeAI

/// The upgrade answer as `WebSocketClient` checks it, through the shared head parser.
@Suite struct WebSocketHandshakeTests {
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="
    static let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" // RFC 6455 §1.3

    private func check(_ head: String) -> WebSocketError? {
        do { try WebSocketClient.checkUpgrade(Array(head.utf8), key: Self.key); return nil } catch { return error }
    }

    @Test func acceptValueOfTheRFCExample() {
        #expect(WebSocketClient.acceptValue(forKey: Self.key) == Self.accept)
    }

    @Test func aGoodUpgradePasses() {
        #expect(
            check(
                "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Accept: \(Self.accept)"
            ) == nil)
    }

    @Test func refusals() {
        #expect(check("SSH-2.0 hello") == .handshakeFailed("not an HTTP answer: SSH-2.0 hello"))
        #expect(
            check("HTTP/1.1 403 Forbidden\r\nContent-Length: 0")
                == .handshakeFailed("server answered HTTP/1.1 403 Forbidden"))
        #expect(
            check("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(Self.accept)")
                == .handshakeFailed("Upgrade is missing"))
        #expect(
            check("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: \(Self.accept)")
                == .handshakeFailed("Connection is missing"))
        #expect(
            check(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong"
            )
                == .handshakeFailed("Sec-WebSocket-Accept wrong, expected \(Self.accept)"))
        #expect(
            check(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(Self.accept)\r\nSec-WebSocket-Extensions: permessage-deflate"
            )
                == .handshakeFailed("unrequested extensions permessage-deflate"))
    }
}
