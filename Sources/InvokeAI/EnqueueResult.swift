/// What `enqueue_batch` created.
public struct EnqueueResult: Sendable, Equatable {
    public var queueId: String
    public var batchId: String
    public var itemIds: [Int]
    public var enqueued: Int
    public var requested: Int
    /// True when the first send failed ambiguously and the batch was found already on the
    /// queue (by its origin and destination) instead of being sent again.
    public var recovered: Bool

    public init(
        queueId: String, batchId: String, itemIds: [Int], enqueued: Int, requested: Int, recovered: Bool = false
    ) {
        self.queueId = queueId
        self.batchId = batchId
        self.itemIds = itemIds
        self.enqueued = enqueued
        self.requested = requested
        self.recovered = recovered
    }
}
