import JSONValue

/// A node whose images are the workflow's outputs (not intermediate, makes images).
public struct WorkflowOutput: Sendable, Equatable {
    public let nodeID: String
    public let nodeType: String
    public let label: String
    /// The input index of the node's board field, when the form has it.
    public let boardInputIndex: Int?
    /// The node has a board field (a run's `board` applies to it).
    let hasBoardField: Bool
}
