import InvokeAI

/// What the run tracker reads from and asks of InvokeAI: its queue's record of items and
/// batches, image records, cancels. A protocol so the tracker's state machine is tested with a
/// scripted queue; the gateway uses `InvokeAIRunUpstream`.
public protocol RunUpstream: Sendable {
    /// Full items (with their sessions), in the order asked; unknown ids left out.
    func items(ids: [Int]) async throws(InvokeAIError) -> [InvokeAIQueueItem]
    /// Items without graph or session, in the order asked; unknown ids left out.
    func summaries(ids: [Int]) async throws(InvokeAIError) -> [QueueItemSummary]
    /// Every item id on the queue, newest first.
    func itemIDs() async throws(InvokeAIError) -> [Int]
    func batchStatus(_ batchId: String) async throws(InvokeAIError) -> BatchStatus
    /// The items of one batch, walking history newest first until `expected` were seen.
    func summaries(ofBatch batchId: String, expected: Int) async throws(InvokeAIError) -> [QueueItemSummary]
    /// Items of `destination` that have not ended (pending, in progress, waiting).
    func unfinishedCount(destination: String) async throws(InvokeAIError) -> Int
    func images(named names: [String]) async throws(InvokeAIError) -> [InvokeAIImage]
    func cancel(batch batchId: String) async throws(InvokeAIError)
}

/// The tracker's reads on a real InvokeAI, each bounded to InvokeAI's 1,000 ids per request.
public struct InvokeAIRunUpstream: RunUpstream {
    let client: InvokeAIClient

    public init(client: InvokeAIClient) { self.client = client }

    public func items(ids: [Int]) async throws(InvokeAIError) -> [InvokeAIQueueItem] {
        var items: [InvokeAIQueueItem] = []
        // Full items are several kilobytes each: ask for a few hundred at a time.
        for start in stride(from: 0, to: ids.count, by: 200) {
            items += try await client.queueItems(ids: Array(ids[start..<min(ids.count, start + 200)]))
        }
        return items
    }

    public func summaries(ids: [Int]) async throws(InvokeAIError) -> [QueueItemSummary] {
        try await client.summaries(ids: ids)
    }
    public func itemIDs() async throws(InvokeAIError) -> [Int] { try await client.itemIDs() }
    public func batchStatus(_ batchId: String) async throws(InvokeAIError) -> BatchStatus {
        try await client.batchStatus(batchId)
    }
    public func summaries(ofBatch batchId: String, expected: Int) async throws(InvokeAIError) -> [QueueItemSummary] {
        try await client.items(ofBatch: batchId, expected: expected)
    }

    public func unfinishedCount(destination: String) async throws(InvokeAIError) -> Int {
        let counts = try await client.queueCounts(destination: destination)
        return ["pending", "in_progress", "waiting"].reduce(0) { $0 + (counts[$1]?.intValue ?? 0) }
    }

    public func images(named names: [String]) async throws(InvokeAIError) -> [InvokeAIImage] {
        var images: [InvokeAIImage] = []
        for start in stride(from: 0, to: names.count, by: 1000) {
            images += try await client.images(named: Array(names[start..<min(names.count, start + 1000)]))
        }
        return images
    }

    public func cancel(batch batchId: String) async throws(InvokeAIError) {
        _ = try await client.cancelBatches([batchId])
    }
}
