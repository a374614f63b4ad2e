import Foundation
import InvokeAI
import JSONValue
import Synchronization

/// One submission through the gateway: one InvokeAI batch (its id is the run's id), tagged with
/// the gateway's destination and an origin naming the workflow and the owning tenant.
public struct Run: Sendable {
    public let id: String
    public let workflow: String
    /// The tenant that submitted it (`""`: the anonymous tenant); read from its origin.
    public let owner: String
    public var itemIDs: [Int]
    public var itemStatuses: [Int: QueueItemStatus] = [:]
    /// Child items (of saved workflows a node calls) and the item that waits for each.
    public var itemParents: [Int: Int] = [:]
    /// Items joined the batch after it was enqueued (child items): the events do not say whose
    /// child each is, so the run's end is read back from InvokeAI's record.
    var gainedItems = false
    public var status: RunStatus = .queued
    public var createdAt: Date
    public var startedAt: Date?
    public var completedAt: Date?
    /// The node running now and what it last said.
    public var progress: JSONValue?
    /// Type, message and failing node, once a node failed.
    public var error: JSONValue?
    /// Images per output node, once the run completed. Each image says its `board_id` and
    /// whether this run's own session made it (`created_by_run`) as InvokeAI's record has it.
    public var outputs: JSONValue = .array([])
    /// Why the run is not reported as ended although InvokeAI's events said it ended: its record
    /// could not be read back yet (retried); nil otherwise.
    public var readBackError: String?
    /// The stored model references of the workflow and what each resolved to, when any.
    public var models: JSONValue?
    /// The `run.<status>` event's data, kept so a per-run stream can end with it even after a
    /// gateway restart (when the hub no longer holds the event).
    public var terminalEventData: JSONObject?
    /// That event's id in this process's sequence (nil for a run that ended before it started
    /// and was read from InvokeAI's history): a per-run stream resumed at or after it answers 204.
    public var terminalEventID: EventID?
    /// Images the gateway uploaded for this run's inputs (deleted when it ends).
    public var uploadedImages: [String] = []
    /// `"outputs"`: delete the outputs once fetched.
    public var cleanup: String?
    /// What the cleaner did with the run's images (deleted, pending, failed), when it had any.
    public var cleanupState: JSONValue?
    /// The `steps` of each node that has them in the graph sent, so `node.progress` can say
    /// step and total (InvokeAI reports only a fraction).
    public var nodeSteps: [String: Int] = [:]

    public init(id: String, workflow: String, owner: String = "", itemIDs: [Int], createdAt: Date = Date()) {
        self.id = id
        self.workflow = workflow
        self.owner = owner
        self.itemIDs = itemIDs
        self.createdAt = createdAt
    }

    public var json: JSONValue {
        var fields = fieldsButCleanup
        fields["cleanup"] = cleanupJSON
        return .object(fields)
    }

    /// Every member of `json` but `cleanup` (which is the cleaner's to say), as compact JSON:
    /// what the run table keeps per run for `/v1/runs` (see `writeJSON`).
    var jsonButCleanup: [UInt8] { JSONValue.object(fieldsButCleanup).compactJSONBytes }

    /// Whether `jsonButCleanup` stays the same while the run does: not while it runs (its
    /// duration grows).
    var jsonIsTimeless: Bool { status.isTerminal || startedAt == nil }

    /// `json` written compactly, from the cleanup (`cleanup` and `cleanupState`) and the other
    /// members written by `jsonButCleanup`: the same bytes as `json.compactJSONBytes`, since
    /// members are written sorted and `cleanup` sorts first.
    static func writeJSON(
        cleanup: (mode: String?, state: JSONValue?), butCleanup rest: [UInt8], to out: inout [UInt8]
    ) {
        out.append(contentsOf: #"{"cleanup":"#.utf8)
        switch (cleanup.mode ?? "inputs", cleanup.state) {
        // Nothing cleaned for the run (nearly every one): the bytes are ready.
        case ("inputs", nil): out.append(contentsOf: Self.nothingCleanedInputs)
        case ("outputs", nil): out.append(contentsOf: Self.nothingCleanedOutputs)
        case (let mode, let state):
            var run = Run(id: "", workflow: "", itemIDs: [])
            (run.cleanup, run.cleanupState) = (mode, state)
            run.cleanupJSON.write(to: &out)
        }
        // `rest` is `{...}` with at least `id` in it: its members follow after a comma.
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: rest.dropFirst())
    }

    private var fieldsButCleanup: JSONObject {
        var fields: JSONObject = [
            "id": .string(id),
            "workflow": .string(workflow),
            "status": .string(status.rawValue),
            "created_at": .string(Self.format(createdAt)),
            "started_at": startedAt.map { .string(Self.format($0)) } ?? .null,
            "completed_at": completedAt.map { .string(Self.format($0)) } ?? .null,
            "item_ids": .array(itemIDs.map { .int($0) }),
            "items": .array(
                itemIDs.map { id in
                    [
                        "id": .int(id), "status": itemStatuses[id].map { .string($0.rawValue) } ?? .null,
                        "parent_item_id": itemParents[id].map { .int($0) } ?? .null,
                    ]
                }),
            "progress": progress ?? .null,
            "error": error ?? .null,
            "outputs": outputs,
            "links": ["self": .string("/v1/runs/\(id)"), "events": .string("/v1/runs/\(id)/events")],
        ]
        if let readBackError { fields["read_back_error"] = .string(readBackError) }
        if let models { fields["models"] = models }
        if let startedAt, let end = completedAt ?? (status.isTerminal ? nil : Date()) {
            fields["duration_seconds"] = .double((end.timeIntervalSince(startedAt) * 1000).rounded() / 1000)
        }
        return fields
    }

    /// Short facts that go into every `run.*` event.
    /// `cleanupJSON` of a run the cleaner has nothing for, in each mode.
    private static let nothingCleanedInputs = Run(id: "", workflow: "", itemIDs: []).cleanupJSON.compactJSONBytes
    private static let nothingCleanedOutputs: [UInt8] = {
        var run = Run(id: "", workflow: "", itemIDs: [])
        run.cleanup = "outputs"
        return run.cleanupJSON.compactJSONBytes
    }()

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

    /// The output images this run's own session made (InvokeAI's image record names the
    /// session): the only ones its cleanup may delete. An image another run made (a cached
    /// result), an input passed through, or an image whose record was not read is left alone.
    public var ownedOutputImageNames: [String] {
        (outputs.arrayValue ?? []).flatMap { $0["images"]?.arrayValue ?? [] }
            .filter { $0["created_by_run"]?.boolValue == true }.compactMap { $0["name"]?.stringValue }
    }

    var eventData: JSONObject {
        ["run": .string(id), "workflow": .string(workflow), "status": .string(status.rawValue)]
    }

    /// One formatter for every run (making one costs more than many uses); formatters are not
    /// documented as thread-safe on Linux, hence the lock.
    private static let formatter: Mutex<ISO8601DateFormatter> = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return Mutex(formatter)
    }()

    static func format(_ date: Date) -> String { formatter.withLock { $0.string(from: date) } }
}

extension Run {
    /// A run's `error`: InvokeAI's type and message, and the node that failed when known.
    static func error(_ failure: InvocationFailure, node: JSONValue) -> JSONValue {
        ["type": .string(failure.errorType), "message": .string(failure.errorMessage), "node": node]
    }

    /// Every image name in an outputs list.
    static func imageNames(in outputs: JSONValue) -> [String] {
        (outputs.arrayValue ?? []).flatMap { $0["images"]?.arrayValue ?? [] }.compactMap { $0["name"]?.stringValue }
    }

    /// The outputs with each image's `board_id` and `created_by_run` from InvokeAI's image
    /// record: made by one of `sessions` (the run's items), or not (a result another run's
    /// node made and the cache handed out again, an input passed through). An image without a
    /// record (deleted meanwhile) gets `board_id` null and `created_by_run` false.
    static func outputs(_ outputs: JSONValue, describedBy records: [String: InvokeAIImage], sessions: Set<String>)
        -> JSONValue
    {
        .array(
            (outputs.arrayValue ?? []).map { node in
                guard case .object(var fields) = node else { return node }
                fields["images"] = .array(
                    (node["images"]?.arrayValue ?? []).map { image in
                        guard case .object(var described) = image, let name = image["name"]?.stringValue else {
                            return image
                        }
                        let record = records[name]
                        described["board_id"] = record?.boardId.map { .string($0) } ?? .null
                        described["created_by_run"] = .bool(record?.sessionId.map(sessions.contains) ?? false)
                        return .object(described)
                    })
                return .object(fields)
            })
    }
}
