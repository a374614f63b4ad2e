import JSONValue

/// Which queue item an event is about, with the tags the gateway put on its batch.
public struct QueueItemRef: Sendable, Equatable, Hashable {
    public var queueId: String
    public var itemId: Int
    public var batchId: String
    public var sessionId: String?
    public var origin: String?
    public var destination: String?
    /// InvokeAI's user id (`system` in single-user mode). `redacted` marks the sanitized copy a
    /// multi-user InvokeAI sends to users who do not own the item: batch, session, origin and
    /// destination are then hidden.
    public var userId: String?

    public var isRedacted: Bool { userId == "redacted" }

    public init(
        queueId: String, itemId: Int, batchId: String, sessionId: String? = nil, origin: String? = nil,
        destination: String? = nil, userId: String? = nil
    ) {
        self.queueId = queueId
        self.itemId = itemId
        self.batchId = batchId
        self.sessionId = sessionId
        self.origin = origin
        self.destination = destination
        self.userId = userId
    }

    init?(_ json: JSONValue) {
        guard let queueId = json["queue_id"]?.stringValue, let itemId = json["item_id"]?.intValue,
            let batchId = json["batch_id"]?.stringValue
        else { return nil }
        self.init(
            queueId: queueId, itemId: itemId, batchId: batchId, sessionId: json["session_id"]?.stringValue,
            origin: json["origin"]?.stringValue, destination: json["destination"]?.stringValue,
            userId: json["user_id"]?.stringValue)
    }
}
