import JSONValue

/// One field placed in a workflow's form: addressable by index, system name or unique label.
public struct WorkflowInput: Sendable {
    public let index: Int
    /// `<nodeId>.<fieldName>`, always unique.
    public let systemName: String
    public let label: String
    public let fieldName: String
    public let nodeID: String
    public let nodeType: String
    public let nodeLabel: String
    public let type: String
    public let required: Bool
    /// The value stored in the workflow, if any.
    public let value: JSONValue?
    /// The field's template, when InvokeAI knows the node.
    public let template: FieldTemplate?
    /// How the form shows it (`textarea` for a long text), if it says.
    let component: String?
    /// The node field it sets.
    let field: NodeField

    /// The JSON Schema of a value for it. Made when asked (describing a workflow), not when the
    /// workflow is read: a run does not need it.
    public var schema: JSONValue {
        guard let template else { return [:] }
        return InputSchema.make(template, label: label, value: value, component: component)
    }
}
