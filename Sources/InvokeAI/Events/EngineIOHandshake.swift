import JSONValue

/// The data of Engine.IO's open packet: session id and the server's heartbeat timing.
public struct EngineIOHandshake: Sendable, Equatable {
    public var sid: String
    /// The server sends a ping this often (milliseconds)...
    public var pingInterval: Int
    /// ...and closes if the pong is this late; a client treats silence for
    /// `pingInterval + pingTimeout` as a dead connection.
    public var pingTimeout: Int
    public var maxPayload: Int?
    public var upgrades: [String]

    public init(sid: String, pingInterval: Int, pingTimeout: Int, maxPayload: Int? = nil, upgrades: [String] = []) {
        self.sid = sid
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
        self.upgrades = upgrades
    }

    public init?(_ json: JSONValue) {
        guard let sid = json["sid"]?.stringValue, let interval = json["pingInterval"]?.intValue,
            let timeout = json["pingTimeout"]?.intValue, interval > 0, timeout > 0
        else { return nil }
        self.init(
            sid: sid, pingInterval: interval, pingTimeout: timeout, maxPayload: json["maxPayload"]?.intValue,
            upgrades: json["upgrades"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    var encodedJSON: String {
        var object: JSONObject = [
            "sid": .string(sid), "pingInterval": .int(pingInterval), "pingTimeout": .int(pingTimeout),
            "upgrades": .array(upgrades.map(JSONValue.string)),
        ]
        if let maxPayload { object["maxPayload"] = .int(maxPayload) }
        return JSONText.encode(.object(object))
    }
}
