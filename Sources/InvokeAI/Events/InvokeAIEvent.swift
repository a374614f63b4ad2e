import JSONValue

/// A queue event from InvokeAI's Socket.IO stream, decoded. Events the gateway does not
/// model (and known events whose payload does not have the expected shape) arrive as
/// `.unknown` with their raw JSON, never as an error.
public enum InvokeAIEvent: Sendable, Equatable {
    case queueItemStatusChanged(QueueItemStatusChange)
    case invocationStarted(InvocationInfo)
    case invocationProgress(InvocationInfo, InvocationProgress)
    /// `result` is the node's output, e.g. `{"type": "image_output", "image": {"image_name": ...}, ...}`.
    case invocationComplete(InvocationInfo, result: JSONValue)
    case invocationError(InvocationInfo, InvocationFailure)
    case batchEnqueued(BatchEnqueued)
    case queueItemsCanceled(queueId: String, itemIds: [Int])
    case queueCleared(queueId: String)
    case unknown(name: String, payload: JSONValue)

    /// The queue item an event is about, when it is about exactly one.
    public var itemId: Int? {
        switch self {
        case .queueItemStatusChanged(let change): change.item.itemId
        case .invocationStarted(let info), .invocationProgress(let info, _), .invocationComplete(let info, _),
            .invocationError(let info, _):
            info.item.itemId
        default: nil
        }
    }

    /// The Socket.IO event name this was decoded from.
    public var name: String {
        switch self {
        case .queueItemStatusChanged: "queue_item_status_changed"
        case .invocationStarted: "invocation_started"
        case .invocationProgress: "invocation_progress"
        case .invocationComplete: "invocation_complete"
        case .invocationError: "invocation_error"
        case .batchEnqueued: "batch_enqueued"
        case .queueItemsCanceled: "queue_items_canceled"
        case .queueCleared: "queue_cleared"
        case .unknown(let name, _): name
        }
    }
}

/// Why a node or a queue item failed, as InvokeAI reports it.
public struct InvocationFailure: Sendable, Equatable {
    /// The exception class name, e.g. `GatewayTestError`.
    public var errorType: String
    public var errorMessage: String
    public var errorTraceback: String?

    public init(errorType: String, errorMessage: String, errorTraceback: String? = nil) {
        self.errorType = errorType
        self.errorMessage = errorMessage
        self.errorTraceback = errorTraceback
    }
}

/// `invocation_progress`: what the node said about its progress. InvokeAI 6.14.2 has no
/// step/total fields; a consumer that knows the steps derives them.
public struct InvocationProgress: Sendable, Equatable {
    public var message: String
    /// 0...1, or nil when the node did not say.
    public var percentage: Double?
    /// The preview image (`width`, `height`, `dataURL`) when the node sent one.
    public var image: JSONValue?

    public init(message: String, percentage: Double?, image: JSONValue? = nil) {
        self.message = message
        self.percentage = percentage
        self.image = image
    }
}

/// The node an invocation event is about.
public struct InvocationInfo: Sendable, Equatable {
    public var item: QueueItemRef
    /// The node id in the graph the gateway enqueued (InvokeAI's `invocation_source_id`).
    public var sourceNodeId: String
    /// The prepared node's id (differs from `sourceNodeId` for iterated/prepared nodes).
    public var invocationId: String?
    /// The node type, e.g. `gateway_test_slow`.
    public var invocationType: String?

    public init(item: QueueItemRef, sourceNodeId: String, invocationId: String? = nil, invocationType: String? = nil) {
        self.item = item
        self.sourceNodeId = sourceNodeId
        self.invocationId = invocationId
        self.invocationType = invocationType
    }

    init?(_ json: JSONValue) {
        guard let item = QueueItemRef(json), let source = json["invocation_source_id"]?.stringValue else { return nil }
        self.init(
            item: item, sourceNodeId: source, invocationId: json["invocation"]?["id"]?.stringValue,
            invocationType: json["invocation"]?["type"]?.stringValue)
    }
}
