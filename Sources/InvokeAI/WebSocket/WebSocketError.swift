/// Why a WebSocket connection failed or was refused.
public enum WebSocketError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The peer broke RFC 6455; `closeCode` is the code to send before closing (1002, 1007, 1009).
    case protocolViolation(String, closeCode: UInt16)
    /// The HTTP upgrade was refused or its answer was wrong.
    case handshakeFailed(String)
    /// The peer closed the connection (with a close frame: its code and reason).
    case closed(code: UInt16?, reason: String)
    /// The socket failed (connect, read or write), or ended without a close frame.
    case io(String)
    /// Nothing arrived (or could be sent) in time.
    case timedOut(String)

    public var description: String {
        switch self {
        case .protocolViolation(let why, let code): "WebSocket protocol violation (\(code)): \(why)"
        case .handshakeFailed(let why): "WebSocket handshake failed: \(why)"
        case .closed(let code, let reason):
            "WebSocket closed by peer (\(code.map(String.init) ?? "no code"))\(reason.isEmpty ? "" : ": \(reason)")"
        case .io(let why): "WebSocket I/O error: \(why)"
        case .timedOut(let what): "WebSocket timed out: \(what)"
        }
    }
}
