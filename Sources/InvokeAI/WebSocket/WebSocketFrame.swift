/// One RFC 6455 frame as it travels on the wire, payload already unmasked.
public struct WebSocketFrame: Sendable, Equatable {
    public var fin: Bool
    public var opcode: WebSocketOpcode
    public var payload: [UInt8]

    public init(fin: Bool = true, opcode: WebSocketOpcode, payload: [UInt8] = []) {
        self.fin = fin
        self.opcode = opcode
        self.payload = payload
    }

    /// A close frame's payload: 2-byte code plus UTF-8 reason (reason cut to fit 125 bytes).
    public static func close(code: UInt16, reason: String = "") -> WebSocketFrame {
        var payload = [UInt8(code >> 8), UInt8(code & 0xFF)]
        payload += Array(reason.utf8.prefix(123))
        return WebSocketFrame(opcode: .close, payload: payload)
    }
}

/// RFC 6455 §5.2 opcodes. Any other value is a protocol error.
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    /// Close, ping and pong: never fragmented, payload at most 125 bytes.
    public var isControl: Bool { rawValue & 0x8 != 0 }
}
