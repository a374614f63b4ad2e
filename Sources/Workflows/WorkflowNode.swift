import JSONValue

/// A node of a workflow definition, as the engine needs it. Stored values stay in the
/// workflow's document (tape positions) until something asks for them. A class: read-only,
/// and passed between the engine's tables without copying each of its strings.
final class WorkflowNode: Sendable {
    /// One stored field (`data.inputs.<name>`).
    struct Field: Sendable {
        let name: String
        /// Tape positions of its key, its value (nil when missing or null) and its label.
        let key: Int
        let value: Int?
        let label: Int?
        /// The node's template has this field (InvokeAI would refuse one it does not know).
        let isKnown: Bool
        let isBoard: Bool
    }

    let id: String
    /// `invocation`, `notes`, ...
    let kind: String
    /// The invocation type (`img_resize`), for invocation nodes.
    let type: String
    let label: String
    /// In the definition's order, each name once.
    let fields: [Field]
    let isIntermediate: Bool
    let useCache: Bool
    let template: InvocationTemplate?

    var isInvocation: Bool { kind == "invocation" }
    var isExecutable: Bool { isInvocation && template != nil && !InvocationTemplate.isBatch(type) && !InvocationTemplate.isGenerator(type) }
    var isBatch: Bool { isInvocation && InvocationTemplate.isBatch(type) }

    func field(_ name: String) -> Field? { fields.first { $0.name == name } }

    init?(at index: Int, in document: JSONDocument, schemas: InvocationSchemaTable) {
        guard let data = document.member("data", of: index),
              let id = document.string("id", of: index) ?? document.string("id", of: data) else { return nil }
        self.id = id
        kind = document.string("type", of: index) ?? "invocation"
        type = document.string("type", of: data) ?? ""
        label = document.string("label", of: data) ?? ""
        isIntermediate = document.bool("isIntermediate", of: data) ?? false
        useCache = document.bool("useCache", of: data) ?? true
        let template = kind == "invocation" ? schemas[type] : nil
        self.template = template
        var fields: [Field] = []
        if let inputs = document.member("inputs", of: data) {
            for (key, input) in document.members(of: inputs) {
                let name = document.string(at: key)!
                let value = document.member("value", of: input).flatMap { document.kind(at: $0) == .null ? nil : $0 }
                let kind = template?.inputs[name]?.kind
                fields.append(Field(name: name, key: key, value: value, label: document.member("label", of: input),
                                    isKnown: kind != nil, isBoard: kind == .board))
            }
            if document.hasRepeatedKeys(inputs) {
                // The last of a repeated field wins, as when JSON is read into an object.
                fields = fields.enumerated().filter { i, field in !fields[(i + 1)...].contains { $0.name == field.name } }.map(\.element)
            }
        }
        self.fields = fields
    }
}
