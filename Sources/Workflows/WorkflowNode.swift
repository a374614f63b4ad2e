import JSONValue

/// A node of a workflow definition, as the engine needs it. Stored values stay in the
/// workflow's document (tape positions) until something asks for them. A class: read-only,
/// and passed between the engine's tables without copying each of its strings.
final class WorkflowNode: Sendable {
    /// One stored field (`data.inputs.<name>`) that the node's template has.
    struct Field: Sendable {
        let name: String
        /// Tape positions of its key, its value (nil when missing or null) and its label.
        let key: Int
        let value: Int?
        let label: Int?
        let isBoard: Bool
    }

    let id: String
    /// `invocation`, `notes`, ...
    let kind: String
    /// The invocation type (`img_resize`), for invocation nodes.
    let type: String
    let label: String
    /// The stored fields the template knows, in the template's order (others could only make
    /// InvokeAI refuse the node: they are never sent).
    let fields: [Field]
    let isIntermediate: Bool
    let useCache: Bool
    let template: InvocationTemplate?

    let isInvocation: Bool
    /// Goes into the graph: an invocation InvokeAI knows, other than a batch or generator node.
    let isExecutable: Bool
    let isBatch: Bool

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
        isInvocation = kind == "invocation"
        let template = isInvocation ? schemas[type] : nil
        self.template = template
        isBatch = isInvocation && InvocationTemplate.isBatch(type)
        isExecutable = template != nil && !isBatch && !InvocationTemplate.isGenerator(type)
        var fields: [Field] = []
        if let template, let inputs = document.member("inputs", of: data) {
            // Looked up by the template's names: no string is built or hashed per stored field,
            // and of a repeated field the last one counts, as for any JSON reader.
            for field in template.orderedInputs {
                guard let input = document.member(field.name, of: inputs) else { continue }
                let key = input - 1
                let value = document.member("value", of: input).flatMap { document.kind(at: $0) == .null ? nil : $0 }
                fields.append(Field(name: field.name, key: key, value: value, label: document.member("label", of: input),
                                    isBoard: field.kind == .board))
            }
        }
        self.fields = fields
    }
}
