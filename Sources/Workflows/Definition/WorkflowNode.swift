import JSONValue

/// A node of a workflow definition, as the engine needs it. Stored values stay in the
/// workflow's document (tape positions) until something asks for them. A class: read-only,
/// and passed between the engine's tables without copying each of its strings.
final class WorkflowNode: Sendable {
    /// One stored field (`data.inputs.<name>`) that the node's template has: tape positions and
    /// flags only, so copying one costs no reference counting.
    struct Field: Sendable {
        /// Its position among the template's ordered inputs (its name is the template's).
        let ordinal: Int
        /// Tape positions of its key, its value (nil when missing or null) and its label.
        let key: Int
        let value: Int?
        let label: Int?
        let isBoard: Bool
        /// `steps`: the denoising steps that progress is counted by.
        let isSteps: Bool
    }

    let id: String
    /// Tape position of the id's string.
    let idPosition: Int
    /// The invocation type (`img_resize`), for invocation nodes.
    let type: String
    let label: String
    /// The stored fields the template knows, in the definition's order (others could only make
    /// InvokeAI refuse the node: they are never sent).
    let fields: [Field]
    let isIntermediate: Bool
    let useCache: Bool
    let template: InvocationTemplate?

    let isInvocation: Bool
    /// Goes into the graph: an invocation InvokeAI knows, other than a batch or generator node.
    let isExecutable: Bool
    let isBatch: Bool

    func field(_ name: String) -> Field? {
        template?.ordinal(of: name).flatMap(field(ordinal:))
    }

    func field(ordinal: Int) -> Field? { fields.first { $0.ordinal == ordinal } }

    /// The template ordinal of the field named by the string at `position` (a handle, a form's
    /// field name), matched by its bytes.
    func ordinal(ofFieldNamedAt position: Int, in document: JSONDocument) -> Int? {
        template?.inputNames.position(ofStringAt: position, in: document)
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
        document.forEachMember(of: data, named: ["type", "label", "isIntermediate", "useCache", "inputs", "id"]) {
            key, value in
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
        self.id = document.string(at: id) ?? "" // a string: checked above
        self.label = label.flatMap(document.string(at:)) ?? ""
        self.isIntermediate = isIntermediate.flatMap(document.bool(at:)) ?? false
        self.useCache = useCache.flatMap(document.bool(at:)) ?? true
        // `type` is missing on the nodes of old exports: they are invocations.
        isInvocation =
            kind.map { document.string(at: $0, equals: "invocation") || document.kind(at: $0) != .string } ?? true
        // The template is found by the type's bytes; its type string then serves the node.
        var template: InvocationTemplate?
        if isInvocation, let type { template = schemas.template(forStringAt: type, in: document) }
        self.template = template
        self.type = template?.type ?? type.flatMap(document.string(at:)) ?? ""
        isBatch = isInvocation && (template?.isBatchNode ?? InvocationTemplate.isBatch(self.type))
        isExecutable = template?.isExecutable ?? false
        fields = template.map { Self.storedFields(inputs, of: $0, in: document) } ?? []
    }

    /// One pass over the stored fields (`data.inputs`), each matched to the template by its key's
    /// bytes (no string built or hashed), in the definition's order; of a repeated field the last
    /// one counts, as for any JSON reader.
    private static func storedFields(_ inputs: Int?, of template: InvocationTemplate, in document: JSONDocument)
        -> [Field]
    {
        guard let inputs else { return [] }
        var fields: [Field] = []
        fields.reserveCapacity(document.count(at: inputs))
        var seen: UInt64 = 0 // ordinals below 64: nearly every node has fewer inputs
        var seenBeyond = Set<Int>()
        document.forEachMember(of: inputs) { key, input in
            guard let ordinal = template.inputNames.position(ofStringAt: key, in: document) else { return }
            let repeated = ordinal < 64 ? seen & (1 << ordinal) != 0 : !seenBeyond.insert(ordinal).inserted
            if ordinal < 64 { seen |= 1 << ordinal }
            if repeated { fields.removeAll { $0.ordinal == ordinal } }
            var value: Int?, label: Int?
            document.forEachMember(of: input, named: ["value", "label"]) { which, position in
                if which == 0 {
                    value = document.kind(at: position) == .null ? nil : position
                } else {
                    label = position
                }
            }
            fields.append(
                Field(
                    ordinal: ordinal, key: key, value: value, label: label,
                    isBoard: template.orderedInputs[ordinal].isBoard, isSteps: ordinal == template.stepsOrdinal))
        }
        return fields
    }
}

/// A node that goes into the graph, with the template it has.
struct GraphNode: Sendable {
    let index: NodeIndex
    let node: WorkflowNode
    let template: InvocationTemplate
}
