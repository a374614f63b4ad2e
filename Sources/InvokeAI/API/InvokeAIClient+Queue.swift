import Foundation
import JSONValue

extension InvokeAIClient {
    private func queuePath(_ queueId: String, _ rest: String) -> String {
        "api/v1/queue/\(Self.pathSegment(queueId))/\(rest)"
    }

    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(
            withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? text
    }

    /// `POST /api/v1/queue/{q}/enqueue_batch`. `batch` is InvokeAI's `Batch` (`graph`, `runs`,
    /// `data`, `origin`, `destination`, `workflow`); a `batch_id` is added when it has none, so an
    /// ambiguous failure can be resolved by looking the batch up (see the other overload).
    public func enqueueBatch(_ batch: JSONValue, prepend: Bool = false, queueId: String = "default")
        async throws(InvokeAIError) -> EnqueueResult
    {
        var batch = batch
        let batchId = batch["batch_id"]?.stringValue ?? UUID().uuidString.lowercased()
        if case .object(var fields) = batch { fields["batch_id"] = .string(batchId); batch = .object(fields) }
        let body: JSONValue = ["prepend": .bool(prepend), "batch": batch]
        return try await enqueueBatch(body: JSONText.data(body), batchId: batchId, queueId: queueId)
    }

    /// The same with the whole request body already written (`{"prepend": ..., "batch": ...}`);
    /// the body must name `batchId` as its `batch_id`.
    ///
    /// Never re-sent blindly: after an ambiguous failure (connection lost, timeout, 500, 502,
    /// 503, 504: InvokeAI may have committed the batch) the batch is looked up by its id; found,
    /// its items are returned (`recovered`); certainly absent, it is sent again (within the retry
    /// policy); when InvokeAI cannot be asked, the original failure is thrown as
    /// `.ambiguousEnqueue`, which names the batch id so the caller can look again later.
    public func enqueueBatch(body: [UInt8], batchId: String, queueId: String = "default") async throws(InvokeAIError)
        -> EnqueueResult
    {
        let request = InvokeAIRequest(
            method: "POST", path: queuePath(queueId, "enqueue_batch"), body: Data(body),
            contentType: "application/json", idempotent: false)
        var attempt = 0
        while true {
            attempt += 1
            do throws(InvokeAIError) {
                let answer = try await json(request)
                guard let answered = answer["batch"]?["batch_id"]?.stringValue, let ids = answer["item_ids"]?.arrayValue
                else {
                    throw InvokeAIError.invalidResponse("enqueue_batch answer without batch id or item ids")
                }
                return EnqueueResult(
                    queueId: queueId, batchId: answered, itemIds: ids.compactMap(\.intValue),
                    enqueued: answer["enqueued"]?.intValue ?? ids.count,
                    requested: answer["requested"]?.intValue ?? ids.count)
            } catch {
                guard error.mayHaveCommitted else { throw error }
                // Did it arrive? Ask until InvokeAI answers (bounded by the retry policy).
                var status: BatchStatus?
                var lookups = 0
                while status == nil && lookups < configuration.retry.maxAttempts {
                    lookups += 1
                    await Self.sleep(configuration.retry.delay(beforeRetry: attempt + lookups - 1))
                    status = try? await batchStatus(batchId, queueId: queueId)
                }
                guard let status else { throw .ambiguousEnqueue(batchId: batchId, cause: error.description) }
                if status.exists {
                    let items = (try? await items(ofBatch: batchId, expected: status.total, queueId: queueId)) ?? []
                    return EnqueueResult(
                        queueId: queueId, batchId: batchId, itemIds: items.map(\.itemId).sorted(),
                        enqueued: status.total,
                        requested: status.total, recovered: true)
                }
                guard attempt < configuration.retry.maxAttempts else { throw error }
            }
        }
    }

    /// `GET /api/v1/queue/{q}/i/{id}`.
    public func queueItem(_ itemId: Int, queueId: String = "default") async throws(InvokeAIError) -> InvokeAIQueueItem {
        let answer = try await json(.get(queuePath(queueId, "i/\(itemId)")))
        guard let item = InvokeAIQueueItem(answer) else { throw .invalidResponse("queue item \(itemId) has no status") }
        return item
    }

    /// `POST /api/v1/queue/{q}/items_by_ids` (read-only, so retried like a GET).
    public func queueItems(ids: [Int], queueId: String = "default") async throws(InvokeAIError) -> [InvokeAIQueueItem] {
        if ids.isEmpty { return [] }
        let body: JSONValue = ["item_ids": .array(ids.map(JSONValue.int))]
        let request = InvokeAIRequest(
            method: "POST", path: queuePath(queueId, "items_by_ids"), body: Data(JSONText.data(body)),
            contentType: "application/json", idempotent: true)
        return try Self.items(try await json(request))
    }

    /// `GET /api/v1/queue/{q}/list_all?destination=`: every item with this destination, graphs
    /// and sessions included (about 7.6 KB per small item, unbounded with history: the gateway
    /// reads history through `itemIDs` and `summaries(ids:)` instead).
    public func queueItems(destination: String, queueId: String = "default") async throws(InvokeAIError)
        -> [InvokeAIQueueItem]
    {
        try Self.items(
            try await json(
                .get(queuePath(queueId, "list_all"), query: [URLQueryItem(name: "destination", value: destination)])))
    }

    /// `GET /api/v1/queue/{q}/item_ids`: every item id on the queue, newest first (a few bytes each).
    public func itemIDs(queueId: String = "default") async throws(InvokeAIError) -> [Int] {
        let answer = try await json(
            .get(queuePath(queueId, "item_ids"), query: [URLQueryItem(name: "order_dir", value: "DESC")]))
        guard let ids = answer["item_ids"]?.arrayValue else {
            throw .invalidResponse("item_ids answer without item_ids")
        }
        return ids.compactMap(\.intValue)
    }

    /// At most this many ids per `items_by_ids` / `item_summaries_by_ids` request (InvokeAI's limit).
    public static let maxIDsPerRequest = 1000

    /// `POST /api/v1/queue/{q}/item_summaries_by_ids`: the items without graph or session, in the
    /// order asked; ids InvokeAI no longer has are left out. Read-only, so retried like a GET.
    public func summaries(ids: [Int], queueId: String = "default") async throws(InvokeAIError) -> [QueueItemSummary] {
        var summaries: [QueueItemSummary] = []
        for start in stride(from: 0, to: ids.count, by: Self.maxIDsPerRequest) {
            let chunk = ids[start..<min(ids.count, start + Self.maxIDsPerRequest)]
            let body: JSONValue = ["item_ids": .array(chunk.map(JSONValue.int))]
            let request = InvokeAIRequest(
                method: "POST", path: queuePath(queueId, "item_summaries_by_ids"), body: Data(JSONText.data(body)),
                contentType: "application/json", idempotent: true)
            guard let list = try await json(request).arrayValue else {
                throw .invalidResponse("expected a list of queue item summaries")
            }
            summaries += list.compactMap(QueueItemSummary.init)
        }
        return summaries
    }

    /// The items of one batch, found by walking the queue's history newest first in pages of
    /// summaries until `expected` items of it were seen (or `maxScanned` items were looked at).
    /// Batches are found where they were just made (an ambiguous enqueue, a retry after a
    /// crash), so this usually takes one page.
    public func items(ofBatch batchId: String, expected: Int, maxScanned: Int = 50_000, queueId: String = "default")
        async throws(InvokeAIError) -> [QueueItemSummary]
    {
        let ids = try await itemIDs(queueId: queueId)
        var found: [QueueItemSummary] = []
        var start = 0
        while start < min(ids.count, maxScanned) && found.count < expected {
            let page = Array(ids[start..<min(ids.count, start + Self.maxIDsPerRequest)])
            found += try await summaries(ids: page, queueId: queueId).filter { $0.batchId == batchId }
            start += page.count
        }
        return found
    }

    private static func items(_ answer: JSONValue) throws(InvokeAIError) -> [InvokeAIQueueItem] {
        guard let list = answer.arrayValue else { throw .invalidResponse("expected a list of queue items") }
        return list.compactMap(InvokeAIQueueItem.init)
    }

    /// `GET /api/v1/queue/{q}/b/{batch_id}/status`: counts per status for one batch (all zero,
    /// `exists` false, for a batch InvokeAI does not hold).
    public func batchStatus(_ batchId: String, queueId: String = "default") async throws(InvokeAIError) -> BatchStatus {
        let answer = try await json(.get(queuePath(queueId, "b/\(Self.pathSegment(batchId))/status")))
        guard let status = BatchStatus(answer) else { throw .invalidResponse("batch status without batch_id or total") }
        return status
    }

    /// `GET /api/v1/queue/{q}/status`: the queue's counts and the current item.
    public func queueStatus(queueId: String = "default") async throws(InvokeAIError) -> JSONValue {
        try await json(.get(queuePath(queueId, "status")))
    }

    /// `GET /api/v1/queue/{q}/counts_by_destination?destination=`.
    public func queueCounts(destination: String, queueId: String = "default") async throws(InvokeAIError) -> JSONValue {
        try await json(
            .get(
                queuePath(queueId, "counts_by_destination"),
                query: [URLQueryItem(name: "destination", value: destination)]))
    }

    /// `PUT /api/v1/queue/{q}/i/{id}/cancel`: returns the item as it is after the request.
    /// Canceling is idempotent (a second cancel changes nothing), so it is retried.
    @discardableResult
    public func cancelQueueItem(_ itemId: Int, queueId: String = "default") async throws(InvokeAIError)
        -> InvokeAIQueueItem
    {
        let answer = try await json(
            InvokeAIRequest(method: "PUT", path: queuePath(queueId, "i/\(itemId)/cancel"), idempotent: true))
        guard let item = InvokeAIQueueItem(answer) else { throw .invalidResponse("cancel answer is not a queue item") }
        return item
    }

    /// `PUT /api/v1/queue/{q}/cancel_by_batch_ids`: returns how many items were canceled.
    @discardableResult
    public func cancelBatches(_ batchIds: [String], queueId: String = "default") async throws(InvokeAIError) -> Int {
        let body: JSONValue = ["batch_ids": .array(batchIds.map(JSONValue.string))]
        let request = InvokeAIRequest(
            method: "PUT", path: queuePath(queueId, "cancel_by_batch_ids"), body: Data(JSONText.data(body)),
            contentType: "application/json", idempotent: true)
        return try await json(request)["canceled"]?.intValue ?? 0
    }

    /// `PUT /api/v1/queue/{q}/retry_items_by_id`: enqueues a failed or canceled item again, as a
    /// new item of the same batch. Returns the ids retried. Not retried itself.
    @discardableResult
    public func retryItems(_ itemIds: [Int], queueId: String = "default") async throws(InvokeAIError) -> [Int] {
        let request = InvokeAIRequest(
            method: "PUT", path: queuePath(queueId, "retry_items_by_id"),
            body: Data(JSONText.data(.array(itemIds.map(JSONValue.int)))),
            contentType: "application/json", idempotent: false)
        return (try await json(request)["retried_item_ids"]?.arrayValue ?? []).compactMap(\.intValue)
    }

    /// `PUT /api/v1/queue/{q}/cancel_by_destination?destination=`: returns how many were canceled.
    @discardableResult
    public func cancelByDestination(_ destination: String, queueId: String = "default") async throws(InvokeAIError)
        -> Int
    {
        let request = InvokeAIRequest(
            method: "PUT", path: queuePath(queueId, "cancel_by_destination"),
            query: [URLQueryItem(name: "destination", value: destination)], idempotent: true)
        return try await json(request)["canceled"]?.intValue ?? 0
    }
}

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
