import JSONValue

/// `GET /api/v1/queue/{q}/b/{batch_id}/status`: how many items of one batch are in each status.
/// A batch id InvokeAI never saw answers with `total` 0 (not 404).
public struct BatchStatus: Sendable, Equatable {
    public var batchId: String
    public var origin: String?
    public var destination: String?
    public var counts: [QueueItemStatus: Int]
    public var total: Int

    public init(batchId: String, origin: String?, destination: String?, counts: [QueueItemStatus: Int], total: Int) {
        self.batchId = batchId
        self.origin = origin
        self.destination = destination
        self.counts = counts
        self.total = total
    }

    init?(_ json: JSONValue) {
        guard let batchId = json["batch_id"]?.stringValue, let total = json["total"]?.intValue else { return nil }
        var counts: [QueueItemStatus: Int] = [:]
        for status in QueueItemStatus.allCases { counts[status] = json[status.rawValue]?.intValue ?? 0 }
        self.init(
            batchId: batchId, origin: json["origin"]?.stringValue, destination: json["destination"]?.stringValue,
            counts: counts, total: total)
    }

    /// InvokeAI holds at least one item of this batch.
    public var exists: Bool { total > 0 }
}
