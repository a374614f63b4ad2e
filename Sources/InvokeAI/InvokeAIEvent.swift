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
