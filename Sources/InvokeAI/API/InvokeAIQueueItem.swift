import JSONValue

/// A queue item as `GET /api/v1/queue/{q}/i/{id}` (or the list endpoints) returns it.
public struct InvokeAIQueueItem: Sendable, Equatable {
    public var itemId: Int
    public var batchId: String
    public var queueId: String
    public var status: QueueItemStatus
    public var origin: String?
    public var destination: String?
    public var sessionId: String?
    /// Set when `status` is `failed`.
    public var failure: InvocationFailure?
    public var createdAt: String?
    public var startedAt: String?
    public var completedAt: String?
    /// Set on the child items a workflow-calling node enqueues into its item's batch.
    public var parentItemId: Int?
    /// Everything InvokeAI sent, including `session` (results, `source_prepared_mapping`).
    public var raw: JSONValue

    public init?(_ json: JSONValue) {
        guard let itemId = json["item_id"]?.intValue, let batchId = json["batch_id"]?.stringValue,
            let rawStatus = json["status"]?.stringValue, let status = QueueItemStatus(rawValue: rawStatus)
        else { return nil }
        self.itemId = itemId
        self.batchId = batchId
        self.queueId = json["queue_id"]?.stringValue ?? "default"
        self.status = status
        origin = json["origin"]?.stringValue
        destination = json["destination"]?.stringValue
        sessionId = json["session_id"]?.stringValue
        if json["error_type"]?.stringValue != nil || json["error_message"]?.stringValue != nil {
            failure = InvocationFailure(
                errorType: json["error_type"]?.stringValue ?? "",
                errorMessage: json["error_message"]?.stringValue ?? "",
                errorTraceback: json["error_traceback"]?.stringValue)
        }
        createdAt = json["created_at"]?.stringValue
        startedAt = json["started_at"]?.stringValue
        completedAt = json["completed_at"]?.stringValue
        parentItemId = json["parent_item_id"]?.intValue
        raw = json
    }

    /// The outputs of graph node `nodeId` (results are keyed by *prepared* ids; one source
    /// node can have several prepared copies, e.g. inside an iteration).
    public func results(forNode nodeId: String) -> [JSONValue] {
        guard let session = raw["session"], let prepared = session["source_prepared_mapping"]?[nodeId]?.arrayValue
        else { return [] }
        return prepared.compactMap { id in id.stringValue.flatMap { session["results"]?[$0] } }
    }
}
