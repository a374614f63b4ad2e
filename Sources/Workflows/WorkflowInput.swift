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

    /// The JSON Schema of a value for it. Made when asked (describing a workflow), not when the
    /// workflow is read: a run does not need it.
    public var schema: JSONValue {
        guard let template else { return [:] }
        return InputSchema.make(template, label: label, value: value, component: component)
    }

    public var json: JSONValue {
        [
            "index": .int(index), "system_name": .string(systemName), "label": .string(label),
            "field": .string(fieldName), "node": ["id": .string(nodeID), "type": .string(nodeType), "label": .string(nodeLabel)],
            "type": .string(type), "kind": template.map { .string($0.kind.machineName) } ?? "other",
            "item_kind": template?.kind.elementKind.map { .string($0.machineName) } ?? .null,
            "schema": schema, "required": .bool(required), "value": value ?? .null,
        ]
    }
}
