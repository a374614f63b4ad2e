/// An executable node of a workflow and the stored fields its graph node carries (those its
/// template knows that no graph edge feeds): worked out once per workflow, written per run.
struct GraphNodeSource: Sendable {
    let node: WorkflowNode
    let fields: [WorkflowNode.Field]
    /// Fields graph edges feed: left out even when an input gives them a value.
    let fedFields: [String]
}
