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
    /// A hash of the ordered input list (system names and types): it changes exactly when
    /// indices would mean other fields.
    public let fingerprint: String

    let nodes: [WorkflowNode]
    let edges: [WorkflowEdge]
    /// The graph's nodes (executable ones) with the stored fields each carries: those its
    /// template knows that no edge feeds.
    let graphNodes: [GraphNodeSource]
    /// The graph's edges: between executable nodes, with both handles, once each.
    let graphEdges: [WorkflowEdge]

    public var definition: JSONValue { document.root.value }

    public static func parse(_ document: JSONDocument, schemas: InvocationSchemaTable) throws(WorkflowParseError) -> Workflow {
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
        var nodes: [WorkflowNode] = []
        for raw in document.items(of: nodeList) {
            guard let node = WorkflowNode(at: raw, in: document, schemas: schemas) else {
                warnings.append(WorkflowWarning(nodeID: document.string("id", of: raw), field: nil, message: "a node without id or data is ignored"))
                continue
            }
            if node.isInvocation, node.template == nil {
                warnings.append(WorkflowWarning(nodeID: node.id, field: nil, message: "node type '\(node.type)' is not known to this InvokeAI"))
            }
            if node.isInvocation, InvocationTemplate.isGenerator(node.type) {
                warnings.append(WorkflowWarning(nodeID: node.id, field: nil, message: "generator node '\(node.type)' is not supported by the gateway; its values are not sent"))
            }
            nodes.append(node)
        }
        // Nodes by id, once; edges then name their ends by position.
        var positions: [String: Int] = [:]
        for (position, node) in nodes.enumerated() where positions[node.id] == nil { positions[node.id] = position }
        let edges = (document.member("edges", of: 0).map(document.items(of:)) ?? []).compactMap {
            WorkflowEdge(at: $0, in: document, nodes: positions)
        }
        self.nodes = nodes
        self.edges = edges

        // Fields fed by edges, by target node: any non-collapsed edge feeds its field; only
        // graph edges (distinct, between executable nodes) take it out of the graph node.
        var edgeFed = [Set<String>](repeating: [], count: nodes.count)
        var graphFed = [[String]](repeating: [], count: nodes.count)
        var graphEdges: [WorkflowEdge] = []
        var seenEdges = Set<WorkflowEdge.Identity>()
        for edge in edges where edge.type != "collapsed" {
            guard let target = edge.targetNode else { continue }
            edgeFed[target].insert(edge.targetHandle)
            guard let source = edge.sourceNode, nodes[source].isExecutable, nodes[target].isExecutable,
                  !edge.sourceHandle.isEmpty, !edge.targetHandle.isEmpty, seenEdges.insert(edge.identity).inserted else { continue }
            graphEdges.append(edge)
            graphFed[target].append(edge.targetHandle)
        }
        self.graphEdges = graphEdges
        graphNodes = nodes.indices.filter { nodes[$0].isExecutable }.map { position in
            let fed = graphFed[position]
            return GraphNodeSource(node: nodes[position], fields: nodes[position].fields.filter { !fed.contains($0.name) }, fedFields: fed)
        }

        var inputs: [WorkflowInput] = []
        var seen = Set<String>()
        for (nodeID, fieldName, formComponent) in Self.fieldReferences(document) {
            let systemName = "\(nodeID).\(fieldName)"
            guard !seen.contains(systemName) else { continue }
            guard let position = positions[nodeID], nodes[position].isInvocation else {
                warnings.append(WorkflowWarning(nodeID: nodeID, field: fieldName, message: "the form names node \(nodeID), which the workflow does not have"))
                continue
            }
            let node = nodes[position]
            guard let template = node.template else { continue }  // already warned: unknown node type
            guard let field = template.inputs[fieldName] else {
                warnings.append(WorkflowWarning(nodeID: nodeID, field: fieldName, message: "node \(nodeID) (\(node.type)) has no field '\(fieldName)'"))
                continue
            }
            seen.insert(systemName)
            let fed = edgeFed[position].contains(fieldName)
            if fed {
                warnings.append(WorkflowWarning(nodeID: nodeID, field: fieldName, message: "input \(systemName) is also fed by an edge: the edge's value is used"))
            }
            let stored = node.field(fieldName)
            let label = stored?.label.flatMap(document.string(at:)).flatMap { $0.isEmpty ? nil : $0 } ?? field.title
            let value = stored?.value.map(document.value(at:))
            inputs.append(WorkflowInput(
                index: inputs.count, systemName: systemName, label: label, fieldName: fieldName, nodeID: nodeID,
                nodeType: node.type, nodeLabel: node.label.isEmpty ? template.title : node.label,
                type: field.kind.description,
                required: field.required && value == nil && !fed,
                value: value, template: field, component: formComponent ?? field.jsonSchema["ui_component"]?.stringValue))
        }
        self.inputs = inputs

        // Required fields that nothing fills: InvokeAI would refuse the graph.
        for (position, node) in nodes.enumerated() where node.isExecutable {
            for name in node.template!.requiredFields where node.field(name)?.value == nil && !edgeFed[position].contains(name) {
                guard !seen.contains("\(node.id).\(name)") else { continue }
                warnings.append(WorkflowWarning(nodeID: node.id, field: name, message: "node \(node.id) (\(node.type)) field '\(name)' is required and has no value, no edge and is not an input"))
            }
        }

        let boardInputs = Dictionary(inputs.filter { $0.fieldName == "board" }.map { ($0.nodeID, $0.index) }, uniquingKeysWith: { first, _ in first })
        outputs = nodes.filter { $0.isExecutable && $0.template!.producesImages && !$0.isIntermediate }.map { node in
            WorkflowOutput(nodeID: node.id, nodeType: node.type, label: node.label.isEmpty ? node.template!.title : node.label,
                           boardInputIndex: boardInputs[node.id], hasBoardField: node.template!.inputs["board"] != nil)
        }
        self.warnings = warnings
        fingerprint = Self.fingerprint(of: inputs)
    }

    /// The `(nodeId, fieldName)` of every form field, depth-first pre-order from the form's root,
    /// with the component the form chose for it (`textarea` for a string); without a usable form,
    /// the legacy `exposedFields` in their order.
    static func fieldReferences(_ document: JSONDocument) -> [(String, String, String?)] {
        let exposed = document.member("exposedFields", of: 0).map(document.items(of:)) ?? []
        if let form = document.member("form", of: 0), let root = document.member("rootElementId", of: form),
           let elements = document.member("elements", of: form), document.member(keyAt: root, of: elements) != nil {
            var references: [(String, String, String?)] = []
            var visited = Set<Int>()
            // Element ids are looked up by their bytes in the text; a form of very many elements
            // goes through a table instead of a scan each.
            let table = document.count(at: elements) > 256
                ? Dictionary(document.members(of: elements).map { (document.string(at: $0.key)!, $0.value) }, uniquingKeysWith: { _, last in last })
                : nil
            func walk(_ id: Int) {
                let element = table.map { table in document.string(at: id).flatMap { table[$0] } } ?? document.member(keyAt: id, of: elements)
                guard let element, visited.insert(element).inserted, let type = document.member("type", of: element) else { return }
                let data = document.member("data", of: element)
                if document.string(at: type, equals: "container") {
                    for child in data.flatMap({ document.member("children", of: $0) }).map(document.items(of:)) ?? [] { walk(child) }
                } else if document.string(at: type, equals: "node-field"), let data,
                          let identifier = document.member("fieldIdentifier", of: data),
                          let node = document.string("nodeId", of: identifier), let field = document.string("fieldName", of: identifier) {
                    references.append((node, field, document.member("settings", of: data).flatMap { document.string("component", of: $0) }))
                }
                // heading, text, divider: not inputs
            }
            walk(root)
            if !references.isEmpty || exposed.isEmpty { return references }
        }
        return exposed.compactMap { field -> (String, String, String?)? in
            guard let node = document.string("nodeId", of: field), let name = document.string("fieldName", of: field) else { return nil }
            return (node, name, nil)
        }
    }

    /// Two 64-bit FNV-1a hashes, hex, of each input's `<systemName>:<type>`, one per line:
    /// stable across processes and platforms.
    static func fingerprint(of inputs: [WorkflowInput]) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x84222325_cbf29ce4
        func add(_ text: String) {
            for byte in text.utf8 {
                a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
                b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
        }
        for i in inputs.indices {
            if i > 0 { add("\n") }
            add(inputs[i].systemName)
            add(":")
            add(inputs[i].type)
        }
        let hex = { (v: UInt64) -> String in let s = String(v, radix: 16); return String(repeating: "0", count: 16 - s.count) + s }
        return hex(a) + hex(b)
    }

    // MARK: views

    public var summaryJSON: JSONValue {
        ["title": .string(name), "description": .string(description), "input_count": .int(inputs.count),
         "fingerprint": .string(fingerprint), "warning_count": .int(warnings.count)]
    }

    public var detailJSON: JSONValue {
        var fields = summaryJSON.objectValue ?? [:]
        fields["inputs"] = .array(inputs.map(\.json))
        fields["outputs"] = .array(outputs.map(\.json))
        fields["warnings"] = .array(warnings.map(\.json))
        return .object(fields)
    }
}
