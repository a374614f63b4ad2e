import Foundation
import InvokeAI
import JSONValue
import Synchronization

@testable import Gateway

/// A queue the test writes: items (full and summary), batches, image records, and whether a
/// read fails. Stands in for InvokeAI in the tracker's unit tests only (the live tests use the
/// real one).
final class ScriptedRunUpstream: RunUpstream, Sendable {
    struct Queue {
        var items: [Int: InvokeAIQueueItem] = [:]
        var images: [String: InvokeAIImage] = [:]
        var failReads = false
        var reads = 0
        var canceled: [String] = []
    }

    let queue = Mutex(Queue())

    func add(_ json: JSONValue) {
        queue.withLock { q in
            let item = InvokeAIQueueItem(json)!; q.items[item.itemId] = item
        }
    }
    func addImage(_ name: String, session: String?, board: String? = nil) {
        var json: JSONObject = ["image_name": .string(name)]
        json["session_id"] = session.map { .string($0) } ?? .null
        json["board_id"] = board.map { .string($0) } ?? .null
        queue.withLock { $0.images[name] = InvokeAIImage(.object(json))! }
    }
    func setStatus(_ item: Int, _ status: QueueItemStatus) { queue.withLock { $0.items[item]?.status = status } }
    var failReads: Bool {
        get { queue.withLock { $0.failReads } }
        set { queue.withLock { $0.failReads = newValue } }
    }
    var reads: Int { queue.withLock { $0.reads } }

    private func read<T>(_ body: (inout Queue) -> T) throws(InvokeAIError) -> T {
        let result: T? = queue.withLock { q in
            q.reads += 1
            return q.failReads ? nil : body(&q)
        }
        guard let result else { throw .cannotConnect("scripted: InvokeAI is down") }
        return result
    }

    func items(ids: [Int]) async throws(InvokeAIError) -> [InvokeAIQueueItem] {
        try read { q in ids.compactMap { q.items[$0] } }
    }

    func summaries(ids: [Int]) async throws(InvokeAIError) -> [QueueItemSummary] {
        try read { q in
            ids.compactMap { q.items[$0] }.map { item in
                QueueItemSummary(
                    itemId: item.itemId, batchId: item.batchId, status: item.status, origin: item.origin,
                    destination: item.destination, createdAt: item.createdAt, startedAt: item.startedAt,
                    completedAt: item.completedAt, parentItemId: item.parentItemId)
            }
        }
    }

    func itemIDs() async throws(InvokeAIError) -> [Int] { try read { q in q.items.keys.sorted(by: >) } }

    func batchStatus(_ batchId: String) async throws(InvokeAIError) -> BatchStatus {
        try read { q in
            let items = q.items.values.filter { $0.batchId == batchId }
            var counts: [QueueItemStatus: Int] = [:]
            for item in items { counts[item.status, default: 0] += 1 }
            return BatchStatus(
                batchId: batchId, origin: items.first?.origin, destination: items.first?.destination, counts: counts,
                total: items.count)
        }
    }

    func summaries(ofBatch batchId: String, expected: Int) async throws(InvokeAIError) -> [QueueItemSummary] {
        try await summaries(ids: try await itemIDs()).filter { $0.batchId == batchId }
    }

    func unfinishedCount(destination: String) async throws(InvokeAIError) -> Int {
        try read { q in q.items.values.filter { $0.destination == destination && !$0.status.isTerminal }.count }
    }

    func images(named names: [String]) async throws(InvokeAIError) -> [InvokeAIImage] {
        try read { q in names.compactMap { q.images[$0] } }
    }

    func cancel(batch batchId: String) async throws(InvokeAIError) {
        try read { q in
            q.canceled.append(batchId)
            for (id, item) in q.items where item.batchId == batchId && !item.status.isTerminal {
                q.items[id]?.status = .canceled
            }
        }
    }

    /// A full queue item as InvokeAI returns it, with one save node's image in its session.
    static func item(
        _ id: Int, batch: String, status: QueueItemStatus, workflow: String = "blur", destination: String = "gw-test",
        image: String? = nil, error: String? = nil, parent: Int? = nil, retriedFrom: Int? = nil,
        created: String = "2026-12-01 10:00:00.000"
    ) -> JSONValue {
        var json: JSONObject = [
            "item_id": .int(id), "batch_id": .string(batch), "queue_id": "default", "status": .string(status.rawValue),
            "origin": .string(RunTracker.origin(for: workflow)), "destination": .string(destination),
            "session_id": .string("s\(id)"),
            "created_at": .string(created), "started_at": "2026-12-01 10:00:01.000",
            "completed_at": status.isTerminal ? "2026-12-01 10:00:02.500" : .null,
        ]
        if let parent { json["parent_item_id"] = .int(parent) }
        if let retriedFrom { json["retried_from_item_id"] = .int(retriedFrom) }
        if let error { json["error_type"] = "GatewayTestError"; json["error_message"] = .string(error) }
        if let image {
            json["session"] = [
                "source_prepared_mapping": ["save": [.string("p\(id)")]],
                "results": [
                    "p\(id)": [
                        "type": "image_output", "image": ["image_name": .string(image)], "width": 8, "height": 6,
                    ]
                ],
            ]
        }
        return .object(json)
    }
}
