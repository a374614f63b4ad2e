import JSONValue

/// A workflow as the GUI exports it or keeps it in its library, read against InvokeAI's
/// invocation schemas: its form inputs (by index, system name, label), its outputs, and what is
/// odd about it. Pure: the definition is never changed.
public struct Workflow: Sendable {
    public let name: String
    public let description: String
    /// The definition as it was read (its text and tape): embedded in every batch byte for byte.
    public let document: JSONDocument
    public let inputs: [WorkflowInput]
    public let outputs: [WorkflowOutput]
    public let warnings: [WorkflowWarning]
    /// What stops the workflow from running on this InvokeAI whatever a request gives: unknown
    /// node types, generators the graph needs, required fields nothing fills. Stored models are
    /// checked against the installed ones by `runnability(installed:allowAny:given:)`.
    public let staticIssues: [RunnabilityIssue]
    /// A hash of the ordered input list (system names and types): it changes exactly when
    /// indices would mean other fields.
    public let fingerprint: String

    let nodes: [WorkflowNode]
    let edges: [WorkflowEdge]
    /// Positions in `nodes` of the graph's nodes (executable ones).
    let graphNodes: [Int]
    /// Whether a graph edge feeds a template field of a node, at `fieldBase[node] + ordinal`:
    /// the graph node leaves such a field out.
    let fieldBase: [Int]
    let graphFed: [Bool]
    /// The graph's edges: between executable nodes, with both handles, once each.
    let graphEdges: [WorkflowEdge]
    /// Model fields of graph nodes whose stored identifier the graph sends, in node order.
    let storedModels: [StoredModel]

    public var definition: JSONValue { document.root.value }

    public static func parse(_ document: JSONDocument, schemas: InvocationSchemaTable) throws(WorkflowParseError)
        -> Workflow
    {
        guard document.kind(at: 0) == .object else { throw WorkflowParseError(message: "a workflow is a JSON object") }
        guard let nodes = document.member("nodes", of: 0), document.kind(at: nodes) == .array else {
            throw WorkflowParseError(message: "no \"nodes\" list: not a workflow")
        }
        return Workflow(document, nodes: nodes, schemas: schemas)
    }

    public static func parse(_ json: JSONValue, schemas: InvocationSchemaTable) throws(WorkflowParseError) -> Workflow {
        try parse(JSONDocument(json), schemas: schemas)
    }

    private init(_ document: JSONDocument, nodes nodeList: Int, schemas: InvocationSchemaTable) {
        self.document = document
        name = document.string("name", of: 0) ?? ""
        description = document.string("description", of: 0) ?? ""
        var warnings: [WorkflowWarning] = []
        var issues: [RunnabilityIssue] = []
        // Positions of known generator nodes: rare, looked at again once the edges are read.
        var generators: [Int] = []
        var nodes: [WorkflowNode] = []
        nodes.reserveCapacity(document.count(at: nodeList))
        // Nodes by id (the first of a repeated id): edges and the form name them by the id's bytes.
        var nodeIndex = JSONStringIndex(document, capacity: document.count(at: nodeList))
        document.forEachItem(of: nodeList) { raw in
            guard let node = WorkflowNode(at: raw, in: document, schemas: schemas) else {
                warnings.append(
                    WorkflowWarning(
                        nodeID: document.string("id", of: raw), field: nil,
                        message: "a node without id or data is ignored"))
                return
            }
            if node.isInvocation, node.template == nil {
                warnings.append(
                    WorkflowWarning(
                        nodeID: node.id, field: nil, message: "node type '\(node.type)' is not known to this InvokeAI"))
                // Left out, the graph would run and do something else; sent, InvokeAI refuses it.
                issues.append(
                    RunnabilityIssue(
                        kind: .unknownNodeType, nodeID: node.id, nodeType: node.type,
                        message: "node \(node.id) has type '\(node.type)', which this InvokeAI does not know"))
            }
            if node.isInvocation, node.template?.isGeneratorNode ?? InvocationTemplate.isGenerator(node.type) {
                warnings.append(
                    WorkflowWarning(
                        nodeID: node.id, field: nil,
                        message:
                            "generator node '\(node.type)' is not supported by the gateway; its values are not sent"))
                if node.template != nil { generators.append(nodes.count) }
            }
            if nodeIndex.value(forStringAt: node.idPosition) == nil {
                nodeIndex.set(nodes.count, forStringAt: node.idPosition)
            }
            nodes.append(node)
        }
        var edges: [WorkflowEdge] = []
        if let edgeList = document.member("edges", of: 0, kind: .array) {
            edges.reserveCapacity(document.count(at: edgeList))
            document.forEachItem(of: edgeList) { raw in
                if let edge = WorkflowEdge(at: raw, in: document, nodes: nodeIndex) { edges.append(edge) }
            }
        }
        self.nodes = nodes
        self.edges = edges

        // What is known of each template field of each node, one flag set per field, found by
        // the node's base plus the field's ordinal: no field name hashed.
        var fieldBase: [Int] = []
        fieldBase.reserveCapacity(nodes.count)
        var fieldCount = 0
        for node in nodes {
            fieldBase.append(fieldCount)
            fieldCount += node.template?.orderedInputs.count ?? 0
        }
        var flags = [FieldFlags](repeating: [], count: fieldCount)

        let executable = nodes.map(\.isExecutable)
        // A generator is harmless alone; one that feeds a batch or graph node makes the run use
        // that node's stored values (or none) instead of the generated ones.
        for generator in generators {
            let fed = edges.compactMap { edge -> String? in
                guard edge.sourceNode == generator, !edge.isCollapsed, let target = edge.targetNode,
                    executable[target] || nodes[target].isBatch
                else { return nil }
                return "\(nodes[target].id).\(edge.targetHandle.flatMap(document.string(at:)) ?? "?")"
            }
            guard !fed.isEmpty else { continue }
            let node = nodes[generator]
            issues.append(
                RunnabilityIssue(
                    kind: .unsupportedGenerator, nodeID: node.id, nodeType: node.type,
                    message:
                        "generator node \(node.id) ('\(node.type)') feeds \(fed.joined(separator: ", ")): the gateway does not evaluate generators, so the run would not use its values"
                ))
        }
        // Any non-collapsed edge from a node the workflow has feeds its field (one from a node it
        // lacks feeds nothing: the GUI drops it on load); only graph edges (distinct, between
        // executable nodes) take it out of the graph node. An edge into a field no graph edge
        // feeds yet cannot repeat an earlier one: edges are compared by identity (handles and type
        // by their interned text) only from the first that might, or that names a field the
        // template lacks.
        var graphEdges: [WorkflowEdge] = []
        var handles = JSONStringIndex(document, capacity: 16)
        func identity(_ edge: WorkflowEdge) -> WorkflowEdge.Identity {
            WorkflowEdge.Identity(
                source: edge.sourceNode!,
                sourceHandle: handles.valueInserting(edge.sourceHandle!, forStringAt: edge.sourceHandle!)!,
                target: edge.targetNode!,
                targetHandle: handles.valueInserting(edge.targetHandle!, forStringAt: edge.targetHandle!)!,
                type: edge.type.map { handles.valueInserting($0, forStringAt: $0)! } ?? -1)
        }
        var identities: Set<WorkflowEdge.Identity>?
        for edge in edges where !edge.isCollapsed {
            guard let target = edge.targetNode, let targetHandle = edge.targetHandle else { continue }
            let slot = nodes[target].ordinal(ofFieldNamedAt: targetHandle, in: document).map { fieldBase[target] + $0 }
            if let slot, edge.sourceNode != nil { flags[slot].insert(.edgeFed) }
            guard let source = edge.sourceNode, edge.sourceHandle != nil, executable[source], executable[target] else {
                continue
            }
            if identities != nil || slot.map({ flags[$0].contains(.graphFed) }) ?? true {
                if identities == nil { identities = Set(graphEdges.map(identity)) }
                guard identities!.insert(identity(edge)).inserted else { continue }
            }
            graphEdges.append(edge)
            if let slot { flags[slot].insert(.graphFed) }
        }
        self.graphEdges = graphEdges
        graphNodes = nodes.indices.filter { executable[$0] }
        self.fieldBase = fieldBase
        graphFed = flags.map { $0.contains(.graphFed) }

        let references = Self.fieldReferences(document)
        var inputs: [WorkflowInput] = []
        inputs.reserveCapacity(references.count)
        var boardInputs = [Int?](repeating: nil, count: nodes.count)
        for reference in references {
            guard let position = nodeIndex.value(forStringAt: reference.node), nodes[position].isInvocation else {
                let nodeID = document.string(at: reference.node)!
                warnings.append(
                    WorkflowWarning(
                        nodeID: nodeID, field: document.string(at: reference.field),
                        message: "the form names node \(nodeID), which the workflow does not have"))
                continue
            }
            let node = nodes[position]
            guard let template = node.template else { continue } // already warned: unknown node type
            guard let ordinal = node.ordinal(ofFieldNamedAt: reference.field, in: document) else {
                let fieldName = document.string(at: reference.field)!
                warnings.append(
                    WorkflowWarning(
                        nodeID: node.id, field: fieldName,
                        message: "node \(node.id) (\(node.type)) has no field '\(fieldName)'"))
                continue
            }
            guard !flags[fieldBase[position] + ordinal].contains(.input) else { continue }
            flags[fieldBase[position] + ordinal].insert(.input)
            let field = template.orderedInputs[ordinal]
            let systemName = Self.join(node.id, field.name)
            let fed = flags[fieldBase[position] + ordinal].contains(.edgeFed)
            if fed {
                warnings.append(
                    WorkflowWarning(
                        nodeID: node.id, field: field.name,
                        message: "input \(systemName) is also fed by an edge: the edge's value is used"))
            }
            let stored = node.field(ordinal: ordinal)
            let label = stored?.label.flatMap(document.string(at:)).flatMap { $0.isEmpty ? nil : $0 } ?? field.title
            let value = stored?.value.map(document.value(at:))
            if field.name == "board", boardInputs[position] == nil { boardInputs[position] = inputs.count }
            inputs.append(
                WorkflowInput(
                    index: inputs.count, systemName: systemName, label: label, fieldName: field.name, nodeID: node.id,
                    nodeType: node.type, nodeLabel: node.label.isEmpty ? template.title : node.label,
                    type: field.kind.description,
                    required: field.required && value == nil && !fed,
                    value: value, template: field,
                    component: reference.component.flatMap(document.string(at:)) ?? field.uiComponent))
        }
        self.inputs = inputs

        // Required fields that nothing fills: InvokeAI would refuse the graph. (A required input
        // with no value is the request's to fill: `validate` asks for it.) And the stored models
        // the graph would send, which must be installed.
        var storedModels: [StoredModel] = []
        for (position, node) in nodes.enumerated() where node.isExecutable {
            for ordinal in node.template!.requiredOrdinals where node.field(ordinal: ordinal)?.value == nil {
                guard flags[fieldBase[position] + ordinal].isDisjoint(with: [.edgeFed, .input]) else { continue }
                let name = node.template!.orderedInputs[ordinal].name
                let message =
                    "node \(node.id) (\(node.type)) field '\(name)' is required and has no value, no edge and is not an input"
                warnings.append(WorkflowWarning(nodeID: node.id, field: name, message: message))
                issues.append(
                    RunnabilityIssue(kind: .missingRequiredValue, nodeID: node.id, field: name, message: message))
            }
            for ordinal in node.template!.modelOrdinals where !flags[fieldBase[position] + ordinal].contains(.graphFed)
            {
                guard let value = node.field(ordinal: ordinal)?.value else { continue }
                storedModels.append(StoredModel(node: position, ordinal: ordinal, value: value))
            }
        }
        self.storedModels = storedModels

        var outputs: [WorkflowOutput] = []
        for (position, node) in nodes.enumerated()
        where executable[position] && node.template!.producesImages && !node.isIntermediate {
            outputs.append(
                WorkflowOutput(
                    nodeID: node.id, nodeType: node.type, label: node.label.isEmpty ? node.template!.title : node.label,
                    boardInputIndex: boardInputs[position], hasBoardField: node.template!.inputs["board"] != nil))
        }
        self.outputs = outputs
        self.warnings = warnings
        staticIssues = issues
        fingerprint = Self.fingerprint(of: inputs)
    }

    /// `<node>.<field>`, in one allocation.
    private static func join(_ node: String, _ field: String) -> String {
        var node = node, field = field
        return node.withUTF8 { first in
            field.withUTF8 { second in
                String(unsafeUninitializedCapacity: first.count + 1 + second.count) { buffer in
                    _ = buffer.initialize(fromContentsOf: first)
                    buffer[first.count] = UInt8(ascii: ".")
                    _ = buffer[(first.count + 1)...].initialize(fromContentsOf: second)
                    return first.count + 1 + second.count
                }
            }
        }
    }

    /// What the workflow does with one template field of one node.
    private struct FieldFlags: OptionSet {
        let rawValue: UInt8
        /// A (non-collapsed) edge feeds it.
        static let edgeFed = FieldFlags(rawValue: 1)
        /// A graph edge feeds it: the graph node leaves it out.
        static let graphFed = FieldFlags(rawValue: 2)
        /// The form places it: it is an input.
        static let input = FieldFlags(rawValue: 4)
    }

    /// A model field's stored identifier that the graph sends: node position, template ordinal,
    /// tape position of the value.
    struct StoredModel {
        let node: Int
        let ordinal: Int
        let value: Int
    }

    /// Where a form places a field: tape positions of its node id and field name (strings) and
    /// of the component the form chose for it (`textarea` for a string), if any.
    struct FieldReference {
        let node: Int
        let field: Int
        let component: Int?
    }

    /// Every form field, depth-first pre-order from the form's root; without a usable form, the
    /// legacy `exposedFields` in their order.
    static func fieldReferences(_ document: JSONDocument) -> [FieldReference] {
        let exposed = document.member("exposedFields", of: 0, kind: .array)
        var references: [FieldReference] = []
        if let form = document.member("form", of: 0),
            let root = document.member("rootElementId", of: form, kind: .string),
            let elements = document.member("elements", of: form, kind: .object)
        {
            // Elements by id (the last of a repeated id, as for any JSON reader), found by the
            // bytes of the ids that name them; the index holds each element's place in `values`.
            var values: [Int] = []
            values.reserveCapacity(document.count(at: elements))
            var elementIndex = JSONStringIndex(document, capacity: document.count(at: elements))
            document.forEachMember(of: elements) { key, value in
                elementIndex.set(values.count, forStringAt: key)
                values.append(value)
            }
            if elementIndex.value(forStringAt: root) != nil {
                // Depth-first with a stack of ids still to visit (a crafted form can nest deeper
                // than a thread's stack would allow recursion to go).
                var visited = [Bool](repeating: false, count: values.count)
                var pending = [root]
                while let id = pending.popLast() {
                    guard let place = elementIndex.value(forStringAt: id), !visited[place] else { continue }
                    visited[place] = true
                    var type: Int?, data: Int?
                    document.forEachMember(of: values[place], named: ["type", "data"]) { key, value in
                        if key == 0 { type = value } else { data = value }
                    }
                    guard let type, let data else { continue }
                    if document.string(at: type, equals: "container") {
                        if let children = document.member("children", of: data, kind: .array) {
                            let start = pending.count
                            document.forEachItem(of: children) { pending.append($0) }
                            pending[start...].reverse()
                        }
                    } else if document.string(at: type, equals: "node-field") {
                        var identifier: Int?, settings: Int?
                        document.forEachMember(of: data, named: ["fieldIdentifier", "settings"]) { key, value in
                            if key == 0 { identifier = value } else { settings = value }
                        }
                        guard let identifier, let node = document.member("nodeId", of: identifier, kind: .string),
                            let field = document.member("fieldName", of: identifier, kind: .string)
                        else { continue }
                        references.append(
                            FieldReference(
                                node: node, field: field,
                                component: settings.flatMap { document.member("component", of: $0, kind: .string) }))
                    }
                    // heading, text, divider: not inputs
                }
                if !references.isEmpty || exposed.map(document.count(at:)) ?? 0 == 0 { return references }
            }
        }
        if let exposed {
            document.forEachItem(of: exposed) { field in
                guard let node = document.member("nodeId", of: field, kind: .string),
                    let name = document.member("fieldName", of: field, kind: .string)
                else { return }
                references.append(FieldReference(node: node, field: name, component: nil))
            }
        }
        return references
    }

    /// Two 64-bit FNV-1a hashes, hex, of each input's `<systemName>:<type>`, one per line:
    /// stable across processes and platforms.
    static func fingerprint(of inputs: [WorkflowInput]) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x84222325_cbf29ce4
        func add(_ text: String) {
            var text = text
            text.withUTF8 { bytes in
                for byte in bytes {
                    a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
                    b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
                }
            }
        }
        for i in inputs.indices {
            if i > 0 { add("\n") }
            add(inputs[i].systemName)
            add(":")
            add(inputs[i].type)
        }
        let hex = { (v: UInt64) -> String in
            let s = String(v, radix: 16); return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex(a) + hex(b)
    }
}
