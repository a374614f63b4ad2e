import JSONValue

/// One Socket.IO 5 packet (the payload of an Engine.IO message):
/// `<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]`.
public struct SocketIOPacket: Sendable, Equatable {
    public enum Kind: Int, Sendable {
        case connect = 0, disconnect, event, ack, connectError, binaryEvent, binaryAck
    }

    public enum ParseError: Error, Equatable {
        case empty
        case unknownType(Character)
        case binaryNotSupported
        case badAckID
        case badJSON(String)
        case badEvent(String)
    }

    public var kind: Kind
    public var namespace: String
    public var ackID: Int?
    public var data: JSONValue?

    public init(kind: Kind, namespace: String = "/", ackID: Int? = nil, data: JSONValue? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.ackID = ackID
        self.data = data
    }

    /// An event packet `[name, argument...]`.
    public static func event(_ name: String, _ arguments: [JSONValue], ackID: Int? = nil, namespace: String = "/")
        -> SocketIOPacket
    {
        SocketIOPacket(kind: .event, namespace: namespace, ackID: ackID, data: .array([.string(name)] + arguments))
    }

    /// For an event packet: its name and first argument (InvokeAI sends exactly one).
    public var eventNameAndPayload: (name: String, payload: JSONValue)? {
        guard kind == .event, case .array(let items)? = data, case .string(let name)? = items.first else { return nil }
        return (name, items.count > 1 ? items[1] : .null)
    }

    public static func parse(_ text: String) throws(ParseError) -> SocketIOPacket {
        try parse(Array(text.utf8)[...])
    }

    public static func parse(_ bytes: ArraySlice<UInt8>) throws(ParseError) -> SocketIOPacket {
        guard let first = bytes.first else { throw .empty }
        guard first >= 48, let kind = Kind(rawValue: Int(first) - 48) else {
            throw .unknownType(Character(Unicode.Scalar(first)))
        }
        if kind == .binaryEvent || kind == .binaryAck { throw .binaryNotSupported }
        var index = bytes.index(after: bytes.startIndex)
        var namespace = "/"
        if index < bytes.endIndex && bytes[index] == UInt8(ascii: "/") {
            let end = bytes[index...].firstIndex(of: UInt8(ascii: ",")) ?? bytes.endIndex
            namespace = String(decoding: bytes[index..<end], as: UTF8.self)
            index = end < bytes.endIndex ? bytes.index(after: end) : end
        }
        var ackID: Int?
        while index < bytes.endIndex, bytes[index] >= 48, bytes[index] <= 57 {
            let digit = Int(bytes[index] - 48)
            let (times, overflow1) = (ackID ?? 0).multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(digit)
            if overflow1 || overflow2 { throw .badAckID }
            ackID = sum
            index = bytes.index(after: index)
        }
        var data: JSONValue?
        if index < bytes.endIndex {
            do { data = try FastJSONParser.parse(bytes[index...]) } catch { throw .badJSON("\(error)") }
        }
        let packet = SocketIOPacket(kind: kind, namespace: namespace, ackID: ackID, data: data)
        if kind == .event && packet.eventNameAndPayload == nil { throw .badEvent("event data is not [name, ...]") }
        return packet
    }

    public var encoded: String {
        var text = String(kind.rawValue)
        if namespace != "/" { text += namespace + "," }
        if let ackID { text += String(ackID) }
        if let data { text += JSONText.encode(data) }
        return text
    }
}
