/// Turns frames into messages (RFC 6455 §5.4): joins fragments, lets control frames through
/// between fragments, limits the size of a whole message, checks text is UTF-8 and close
/// frames carry a valid code.
public struct WebSocketMessageAssembler: Sendable {
    public let maxMessageBytes: Int
    private var fragmentOpcode: WebSocketOpcode?
    private var fragments: [UInt8] = []

    public init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// The complete message this frame finishes, or nil when it was one fragment of more.
    public mutating func push(_ frame: WebSocketFrame) throws(WebSocketError) -> WebSocketMessage? {
        switch frame.opcode {
        case .ping: return .ping(frame.payload)
        case .pong: return .pong(frame.payload)
        case .close: return try Self.parseClose(frame.payload)
        case .text, .binary:
            if fragmentOpcode != nil {
                throw .protocolViolation("new data frame inside a fragmented message", closeCode: 1002)
            }
            if frame.payload.count > maxMessageBytes {
                throw .protocolViolation("message over \(maxMessageBytes) bytes", closeCode: 1009)
            }
            if frame.fin { return try Self.message(frame.opcode, frame.payload) }
            fragmentOpcode = frame.opcode
            fragments = frame.payload
            return nil
        case .continuation:
            guard let opcode = fragmentOpcode else {
                throw .protocolViolation("continuation frame without a message to continue", closeCode: 1002)
            }
            if fragments.count + frame.payload.count > maxMessageBytes {
                throw .protocolViolation("message over \(maxMessageBytes) bytes", closeCode: 1009)
            }
            fragments += frame.payload
            guard frame.fin else { return nil }
            let payload = fragments
            fragments = []
            fragmentOpcode = nil
            return try Self.message(opcode, payload)
        }
    }

    private static func message(_ opcode: WebSocketOpcode, _ payload: [UInt8]) throws(WebSocketError)
        -> WebSocketMessage
    {
        if opcode == .binary { return .binary(payload) }
        guard let text = String(validating: payload, as: UTF8.self) else {
            throw .protocolViolation("text message is not UTF-8", closeCode: 1007)
        }
        return .text(text)
    }

    /// RFC 6455 §5.5.1 and §7.4: empty, or a 2-byte code that may be sent on the wire plus UTF-8.
    static func parseClose(_ payload: [UInt8]) throws(WebSocketError) -> WebSocketMessage {
        if payload.isEmpty { return .close(code: nil, reason: "") }
        if payload.count == 1 { throw .protocolViolation("close frame with a 1-byte payload", closeCode: 1002) }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard isValidCloseCode(code) else { throw .protocolViolation("invalid close code \(code)", closeCode: 1002) }
        guard let reason = String(validating: payload[2...], as: UTF8.self) else {
            throw .protocolViolation("close reason is not UTF-8", closeCode: 1007)
        }
        return .close(code: code, reason: reason)
    }

    /// Codes allowed in a close frame: the defined 1000-1003 and 1007-1011 (and 1012-1014,
    /// registered later), and the application ranges 3000-4999. 1004-1006 and 1015 must never be sent.
    public static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}

/// What a WebSocket connection delivers after reassembling fragments.
public enum WebSocketMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    /// The peer's close frame: its status code (nil when it sent none) and reason.
    case close(code: UInt16?, reason: String)
}
