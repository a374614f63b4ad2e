import JSONValue

/// `queue_item_status_changed`.
public struct QueueItemStatusChange: Sendable, Equatable {
    public var item: QueueItemRef
    public var status: QueueItemStatus
    /// Increases with every change of one item (InvokeAI >= 6.x); orders changes that race.
    public var statusSequence: Int?
    /// Set when `status` is `failed`.
    public var failure: InvocationFailure?
    public var createdAt: String?
    public var startedAt: String?
    public var completedAt: String?
    /// The batch's counts as of this change (`pending`, `in_progress`, `completed`, ...).
    public var batchStatus: JSONValue?

    public init(
        item: QueueItemRef, status: QueueItemStatus, statusSequence: Int? = nil, failure: InvocationFailure? = nil,
        createdAt: String? = nil, startedAt: String? = nil, completedAt: String? = nil, batchStatus: JSONValue? = nil
    ) {
        self.item = item
        self.status = status
        self.statusSequence = statusSequence
        self.failure = failure
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.batchStatus = batchStatus
    }
}
