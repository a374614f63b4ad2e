/// `batch_enqueued`.
public struct BatchEnqueued: Sendable, Equatable {
    public var queueId: String
    public var batchId: String
    public var enqueued: Int
    public var requested: Int
    public var priority: Int
    public var origin: String?
    public var userId: String?

    public init(
        queueId: String, batchId: String, enqueued: Int, requested: Int, priority: Int, origin: String?, userId: String?
    ) {
        self.queueId = queueId
        self.batchId = batchId
        self.enqueued = enqueued
        self.requested = requested
        self.priority = priority
        self.origin = origin
        self.userId = userId
    }
}
