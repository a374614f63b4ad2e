import Foundation
import InvokeAI
import JSONValue

/// One submission through the gateway: one InvokeAI batch (its id is the run's id), tagged with
/// the gateway's destination and an origin naming the workflow.
public struct Run: Sendable {
    public let id: String
    public let workflow: String
    public var itemIDs: [Int]
    public var itemStatuses: [Int: QueueItemStatus] = [:]
    public var status: RunStatus = .queued
    public var createdAt: Date
    public var startedAt: Date?
    public var completedAt: Date?
    /// The node running now and what it last said.
    public var progress: JSONValue?
    /// Type, message and failing node, once a node failed.
    public var error: JSONValue?
    /// Images per output node, once the run completed.
    public var outputs: JSONValue = .array([])
    /// Images the gateway uploaded for this run's inputs (deleted when it ends).
    public var uploadedImages: [String] = []
    /// `"outputs"`: delete the outputs once fetched.
    public var cleanup: String?
    /// What the cleaner did with the run's images (deleted, pending, failed), when it had any.
    public var cleanupState: JSONValue?
    /// The `steps` of each node that has them in the graph sent, so `node.progress` can say
    /// step and total (InvokeAI reports only a fraction).
    public var nodeSteps: [String: Int] = [:]

    public init(id: String, workflow: String, itemIDs: [Int], createdAt: Date = Date()) {
        self.id = id
        self.workflow = workflow
        self.itemIDs = itemIDs
        self.createdAt = createdAt
    }

    public var json: JSONValue {
        var fields: JSONObject = [
            "id": .string(id),
            "workflow": .string(workflow),
            "status": .string(status.rawValue),
            "created_at": .string(Self.format(createdAt)),
            "started_at": startedAt.map { .string(Self.format($0)) } ?? .null,
            "completed_at": completedAt.map { .string(Self.format($0)) } ?? .null,
            "item_ids": .array(itemIDs.map { .int($0) }),
            "progress": progress ?? .null,
            "error": error ?? .null,
            "outputs": outputs,
            "cleanup": cleanupJSON,
            "links": ["self": .string("/v1/runs/\(id)"), "events": .string("/v1/runs/\(id)/events")],
        ]
        if let startedAt, let end = completedAt ?? (status.isTerminal ? nil : Date()) {
            fields["duration_seconds"] = .double((end.timeIntervalSince(startedAt) * 1000).rounded() / 1000)
        }
        return .object(fields)
    }

    /// Short facts that go into every `run.*` event.
    /// `{mode, deleted, pending, failed}`: `mode` is what the run asked for (`inputs`: only the
    /// images the gateway uploaded for it; `outputs`: those and each output once fetched).
    var cleanupJSON: JSONValue {
        var fields = cleanupState?.objectValue ?? ["deleted": [], "pending": [], "failed": []]
        fields["mode"] = .string(cleanup ?? "inputs")
        return .object(fields)
    }

    /// The names of the run's output images.
    public var outputImageNames: [String] {
        (outputs.arrayValue ?? []).flatMap { $0["images"]?.arrayValue ?? [] }.compactMap { $0["name"]?.stringValue }
    }

    var eventData: JSONObject {
        ["run": .string(id), "workflow": .string(workflow), "status": .string(status.rawValue)]
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
