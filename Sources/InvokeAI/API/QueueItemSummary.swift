import JSONValue

/// A queue item without its graph and session (`item_summaries_by_ids`): a few hundred bytes,
/// where a full item is several kilobytes. What recovery and look-ups scan history with.
public struct QueueItemSummary: Sendable, Equatable {
    public var itemId: Int
    public var batchId: String
    public var status: QueueItemStatus
    public var origin: String?
    public var destination: String?
    public var createdAt: String?
    public var startedAt: String?
    public var completedAt: String?
    public var parentItemId: Int?

    public init(
        itemId: Int, batchId: String, status: QueueItemStatus, origin: String? = nil, destination: String? = nil,
        createdAt: String? = nil, startedAt: String? = nil, completedAt: String? = nil, parentItemId: Int? = nil
    ) {
        self.itemId = itemId
        self.batchId = batchId
        self.status = status
        self.origin = origin
        self.destination = destination
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.parentItemId = parentItemId
    }

    init?(_ json: JSONValue) {
        guard let itemId = json["item_id"]?.intValue, let batchId = json["batch_id"]?.stringValue,
            let raw = json["status"]?.stringValue, let status = QueueItemStatus(rawValue: raw)
        else { return nil }
        self.init(
            itemId: itemId, batchId: batchId, status: status, origin: json["origin"]?.stringValue,
            destination: json["destination"]?.stringValue, createdAt: json["created_at"]?.stringValue,
            startedAt: json["started_at"]?.stringValue, completedAt: json["completed_at"]?.stringValue,
            parentItemId: json["parent_item_id"]?.intValue)
    }
}

/// A queue item's status in InvokeAI 6.x.
public enum QueueItemStatus: String, Sendable, Codable, CaseIterable {
    case pending
    case inProgress = "in_progress"
    /// A parent item parked while the saved workflows it calls run as child items of its batch.
    case waiting
    case completed
    case failed
    case canceled

    /// Completed, failed and canceled never change again.
    public var isTerminal: Bool { self == .completed || self == .failed || self == .canceled }
}
