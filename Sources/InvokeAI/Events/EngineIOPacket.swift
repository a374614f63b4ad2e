import JSONValue

/// One Engine.IO 4 packet as carried in a WebSocket text message: a type digit, then data.
/// (`0` open with the handshake JSON, `1` close, `2` ping, `3` pong, `4` message, `5` upgrade, `6` noop.)
public enum EngineIOPacket: Sendable, Equatable {
    case open(EngineIOHandshake)
    case close
    case ping(String)
    case pong(String)
    case message(String)
    case upgrade
    case noop

    public enum ParseError: Error, Equatable {
        case empty
        case unknownType(Character)
        case badHandshake(String)
    }

    public static func parse(_ text: String) throws(ParseError) -> EngineIOPacket {
        guard let type = text.first else { throw .empty }
        let data = String(text.dropFirst())
        switch type {
        case "0":
            guard let json = try? FastJSONParser.parse(Array(data.utf8)), let handshake = EngineIOHandshake(json) else {
                throw .badHandshake(String(data.prefix(200)))
            }
            return .open(handshake)
        case "1": return .close
        case "2": return .ping(data)
        case "3": return .pong(data)
        case "4": return .message(data)
        case "5": return .upgrade
        case "6": return .noop
        default: throw .unknownType(type)
        }
    }

    public var encoded: String {
        switch self {
        case .open(let handshake): "0" + handshake.encodedJSON
        case .close: "1"
        case .ping(let data): "2" + data
        case .pong(let data): "3" + data
        case .message(let data): "4" + data
        case .upgrade: "5"
        case .noop: "6"
        }
    }
}
