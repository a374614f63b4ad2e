import Foundation
import JSONValue

extension InvokeAIClient {
    private func queuePath(_ queueId: String, _ rest: String) -> String {
        "api/v1/queue/\(Self.pathSegment(queueId))/\(rest)"
    }

    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? text
    }

    /// `POST /api/v1/queue/{q}/enqueue_batch`. `batch` is InvokeAI's `Batch` (`graph`, `runs`,
    /// `data`, `origin`, `destination`, `workflow`).
    ///
    /// Never re-sent blindly: after an ambiguous failure (connection lost, timeout, 502/503/504)
    /// the client looks for items with the batch's `destination` and `origin` on the queue and
    /// returns that batch (`recovered`) if it is there; only when it is certainly absent is the
    /// batch sent again (within the retry policy). So give every batch a unique
    /// destination/origin pair; without both, an ambiguous failure is thrown as it is.
    public func enqueueBatch(_ batch: JSONValue, prepend: Bool = false, queueId: String = "default") async throws(InvokeAIError) -> EnqueueResult {
        let body: JSONValue = ["prepend": .bool(prepend), "batch": batch]
        return try await enqueueBatch(body: JSONText.data(body), origin: batch["origin"]?.stringValue,
                                      destination: batch["destination"]?.stringValue, queueId: queueId)
    }

    /// The same with the whole request body already written (`{"prepend": ..., "batch": ...}`);
    /// `origin` and `destination` are the batch's, to find it again after an ambiguous failure.
    public func enqueueBatch(body: [UInt8], origin: String?, destination: String?, queueId: String = "default") async throws(InvokeAIError) -> EnqueueResult {
        let request = InvokeAIRequest(method: "POST", path: queuePath(queueId, "enqueue_batch"), body: Data(body),
                                      contentType: "application/json", idempotent: false)
        var attempt = 0
        while true {
            attempt += 1
            do throws(InvokeAIError) {
                let answer = try await json(request)
                guard let batchId = answer["batch"]?["batch_id"]?.stringValue, let ids = answer["item_ids"]?.arrayValue else {
                    throw InvokeAIError.invalidResponse("enqueue_batch answer without batch id or item ids")
                }
                return EnqueueResult(queueId: queueId, batchId: batchId, itemIds: ids.compactMap(\.intValue),
                                     enqueued: answer["enqueued"]?.intValue ?? ids.count, requested: answer["requested"]?.intValue ?? ids.count)
            } catch {
                let ambiguous = error.isTransport || [502, 503, 504].contains(error.statusCode ?? 0)
                guard ambiguous, let origin, let destination, attempt < configuration.retry.maxAttempts else { throw error }
                // Did it arrive? Ask until InvokeAI answers (bounded by the retry policy).
                var found: [InvokeAIQueueItem]?
                var lookups = 0
                while found == nil && lookups < configuration.retry.maxAttempts {
                    lookups += 1
                    await Self.sleep(configuration.retry.delay(beforeRetry: attempt + lookups - 1))
                    found = try? await queueItems(destination: destination, queueId: queueId).filter { $0.origin == origin }
                }
                guard let found else { throw error }  // cannot tell: report the original failure
                if let first = found.first {
                    let mine = found.filter { $0.batchId == first.batchId }.map(\.itemId).sorted()
                    return EnqueueResult(queueId: queueId, batchId: first.batchId, itemIds: mine, enqueued: mine.count,
                                         requested: mine.count, recovered: true)
                }
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
        let request = InvokeAIRequest(method: "POST", path: queuePath(queueId, "items_by_ids"), body: Data(JSONText.data(body)),
                                      contentType: "application/json", idempotent: true)
        return try Self.items(try await json(request))
    }

    /// `GET /api/v1/queue/{q}/list_all?destination=`: every item with this destination.
    public func queueItems(destination: String, queueId: String = "default") async throws(InvokeAIError) -> [InvokeAIQueueItem] {
        try Self.items(try await json(.get(queuePath(queueId, "list_all"), query: [URLQueryItem(name: "destination", value: destination)])))
    }

    private static func items(_ answer: JSONValue) throws(InvokeAIError) -> [InvokeAIQueueItem] {
        guard let list = answer.arrayValue else { throw .invalidResponse("expected a list of queue items") }
        return list.compactMap(InvokeAIQueueItem.init)
    }

    /// `GET /api/v1/queue/{q}/b/{batch_id}/status`: counts per status for one batch.
    public func batchStatus(_ batchId: String, queueId: String = "default") async throws(InvokeAIError) -> JSONValue {
        try await json(.get(queuePath(queueId, "b/\(Self.pathSegment(batchId))/status")))
    }

    /// `GET /api/v1/queue/{q}/status`: the queue's counts and the current item.
    public func queueStatus(queueId: String = "default") async throws(InvokeAIError) -> JSONValue {
        try await json(.get(queuePath(queueId, "status")))
    }

    /// `GET /api/v1/queue/{q}/counts_by_destination?destination=`.
    public func queueCounts(destination: String, queueId: String = "default") async throws(InvokeAIError) -> JSONValue {
        try await json(.get(queuePath(queueId, "counts_by_destination"), query: [URLQueryItem(name: "destination", value: destination)]))
    }

    /// `PUT /api/v1/queue/{q}/i/{id}/cancel`: returns the item as it is after the request.
    /// Canceling is idempotent (a second cancel changes nothing), so it is retried.
    @discardableResult
    public func cancelQueueItem(_ itemId: Int, queueId: String = "default") async throws(InvokeAIError) -> InvokeAIQueueItem {
        let answer = try await json(InvokeAIRequest(method: "PUT", path: queuePath(queueId, "i/\(itemId)/cancel"), idempotent: true))
        guard let item = InvokeAIQueueItem(answer) else { throw .invalidResponse("cancel answer is not a queue item") }
        return item
    }

    /// `PUT /api/v1/queue/{q}/cancel_by_batch_ids`: returns how many items were canceled.
    @discardableResult
    public func cancelBatches(_ batchIds: [String], queueId: String = "default") async throws(InvokeAIError) -> Int {
        let body: JSONValue = ["batch_ids": .array(batchIds.map(JSONValue.string))]
        let request = InvokeAIRequest(method: "PUT", path: queuePath(queueId, "cancel_by_batch_ids"), body: Data(JSONText.data(body)),
                                      contentType: "application/json", idempotent: true)
        return try await json(request)["canceled"]?.intValue ?? 0
    }

    /// `PUT /api/v1/queue/{q}/cancel_by_destination?destination=`: returns how many were canceled.
    @discardableResult
    public func cancelByDestination(_ destination: String, queueId: String = "default") async throws(InvokeAIError) -> Int {
        let request = InvokeAIRequest(method: "PUT", path: queuePath(queueId, "cancel_by_destination"),
                                      query: [URLQueryItem(name: "destination", value: destination)], idempotent: true)
        return try await json(request)["canceled"]?.intValue ?? 0
    }
}
