/// What a WebSocket connection delivers after reassembling fragments.
public enum WebSocketMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    /// The peer's close frame: its status code (nil when it sent none) and reason.
    case close(code: UInt16?, reason: String)
}
