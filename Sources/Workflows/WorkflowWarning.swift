import JSONValue

/// Something odd about a workflow that does not stop it from being listed (a stale reference,
/// an unknown node type, a required field with no value): named so a person can fix it.
public struct WorkflowWarning: Sendable, Equatable {
    public let nodeID: String?
    public let field: String?
    public let message: String

    public init(nodeID: String?, field: String?, message: String) {
        self.nodeID = nodeID
        self.field = field
        self.message = message
    }
}
