import InvokeAI
import JSONValue

/// A queue item's session as its events told it, watched from its start: which prepared nodes
/// ran for each graph node and what each produced. When the item completes with nothing missed,
/// this is the same `session` InvokeAI would return, so outputs are mapped without reading the
/// item back (a REST round trip of 10-30 ms after every run).
struct ObservedSession {
    /// The event stream's connection this was watched on; a reconnect may have lost events.
    let streamEpoch: Int
    private var preparedBySource: [String: [JSONValue]] = [:]
    private var results: [String: JSONValue] = [:]
    private var end: QueueItemStatusChange?
    /// It waited for child items (a called workflow): its results then come from InvokeAI's record.
    private var didWait = false

    init(streamEpoch: Int) { self.streamEpoch = streamEpoch }

    mutating func record(_ info: InvocationInfo, result: JSONValue) {
        let prepared = info.invocationId ?? info.sourceNodeId
        preparedBySource[info.sourceNodeId, default: []].append(.string(prepared))
        results[prepared] = result
    }

    mutating func ended(_ change: QueueItemStatusChange) { end = change }
    mutating func waited() { didWait = true }

    /// The item as `items_by_ids` would give it, when it completed (only then are all results
    /// known to have been sent).
    var completedItem: InvokeAIQueueItem? {
        guard let end, end.status == .completed, !didWait else { return nil }
        let item = end.item
        func text(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
        return InvokeAIQueueItem([
            "item_id": .int(item.itemId), "batch_id": .string(item.batchId), "queue_id": .string(item.queueId),
            "status": .string(end.status.rawValue), "origin": text(item.origin), "destination": text(item.destination),
            "session_id": text(item.sessionId), "created_at": text(end.createdAt), "started_at": text(end.startedAt),
            "completed_at": text(end.completedAt),
            "session": [
                "source_prepared_mapping": .object(JSONObject(preparedBySource.mapValues { .array($0) })),
                "results": .object(JSONObject(results)),
            ],
        ])
    }
}
