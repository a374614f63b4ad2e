import JSONValue

/// A node of a workflow definition, as the engine needs it. Stored values stay in the
/// workflow's document (tape positions) until something asks for them. A class: read-only,
/// and passed between the engine's tables without copying each of its strings.
final class WorkflowNode: Sendable {
    /// One stored field (`data.inputs.<name>`) that the node's template has.
    struct Field: Sendable {
        let name: String
        /// Its position among the template's ordered inputs.
        let ordinal: Int
        /// Tape positions of its key, its value (nil when missing or null) and its label.
        let key: Int
        let value: Int?
        let label: Int?
        let isBoard: Bool
    }

    let id: String
    /// Tape position of the id's string.
    let idPosition: Int
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
    func field(ordinal: Int) -> Field? { fields.first { $0.ordinal == ordinal } }

    /// The template ordinal of the field named by the string at `position` (a handle, a form's
    /// field name), matched by its bytes.
    func ordinal(ofFieldNamedAt position: Int, in document: JSONDocument) -> Int? {
        guard let template else { return nil }
        return document.withText(ofStringAt: position, template.ordinal(ofInputNamed:))
    }

    init?(at index: Int, in document: JSONDocument, schemas: InvocationSchemaTable) {
        var kind: Int?, data: Int?, id: Int?
        document.forEachMember(of: index, named: ["type", "data", "id"]) { key, value in
            switch key {
            case 0: kind = value
            case 1: data = value
            default: id = document.kind(at: value) == .string ? value : nil
            }
        }
        guard let data else { return nil }
        var type: Int?, label: Int?, isIntermediate: Int?, useCache: Int?, inputs: Int?, dataID: Int?
        document.forEachMember(of: data, named: ["type", "label", "isIntermediate", "useCache", "inputs", "id"]) { key, value in
            switch key {
            case 0: type = value
            case 1: label = value
            case 2: isIntermediate = value
            case 3: useCache = value
            case 4: inputs = value
            default: dataID = document.kind(at: value) == .string ? value : nil
            }
        }
        guard let id = id ?? dataID else { return nil }
        idPosition = id
        self.id = document.string(at: id)!
        self.type = type.flatMap(document.string(at:)) ?? ""
        self.label = label.flatMap(document.string(at:)) ?? ""
        self.isIntermediate = isIntermediate.flatMap(document.bool(at:)) ?? false
        self.useCache = useCache.flatMap(document.bool(at:)) ?? true
        // `type` is missing on the nodes of old exports: they are invocations.
        isInvocation = kind.map { document.string(at: $0, equals: "invocation") || document.kind(at: $0) != .string } ?? true
        let template = isInvocation ? schemas[self.type] : nil
        self.template = template
        isBatch = isInvocation && InvocationTemplate.isBatch(self.type)
        isExecutable = template != nil && !isBatch && !InvocationTemplate.isGenerator(self.type)
        guard let template, let inputs else { fields = []; return }
        // One pass over the stored fields, each matched to the template by its key's bytes (no
        // string built or hashed); of a repeated field the last one counts, as for any JSON reader.
        var slots = [Field?](repeating: nil, count: template.orderedInputs.count)
        document.forEachMember(of: inputs) { key, input in
            guard let ordinal = document.withText(ofStringAt: key, template.ordinal(ofInputNamed:)) else { return }
            let field = template.orderedInputs[ordinal]
            var value: Int?, label: Int?
            document.forEachMember(of: input, named: ["value", "label"]) { which, position in
                if which == 0 { value = document.kind(at: position) == .null ? nil : position } else { label = position }
            }
            slots[ordinal] = Field(name: field.name, ordinal: ordinal, key: key, value: value, label: label, isBoard: field.kind == .board)
        }
        fields = slots.compactMap { $0 }
    }
}
