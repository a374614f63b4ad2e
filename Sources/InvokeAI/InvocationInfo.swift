import JSONValue

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
