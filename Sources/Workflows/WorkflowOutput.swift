import JSONValue

/// A node whose images are the workflow's outputs (not intermediate, makes images).
public struct WorkflowOutput: Sendable, Equatable {
    public let nodeID: String
    public let nodeType: String
    public let label: String
    /// The input index of the node's board field, when the form has it.
    public let boardInputIndex: Int?
    /// The node's board field, as a run's value for it is kept (`RepeatedIDs`): a run's `board`
    /// applies to it. Nil when the node has none.
    let boardField: NodeField?
}
