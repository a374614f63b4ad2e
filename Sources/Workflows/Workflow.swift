import JSONValue

/// A workflow as the GUI exports it or keeps it in its library, read against InvokeAI's
/// invocation schemas: its form inputs (by index, system name, label), its outputs, and what is
/// odd about it. Pure: the definition is never changed.
public struct Workflow: Sendable {
    public let name: String
    public let description: String
    public let definition: JSONValue
    public let inputs: [WorkflowInput]
    public let outputs: [WorkflowOutput]
    public let warnings: [WorkflowWarning]
    /// A hash of the ordered input list (system names and types): it changes exactly when
    /// indices would mean other fields.
    public let fingerprint: String

    let nodes: [WorkflowNode]
    let edges: [WorkflowEdge]
    /// Destination handles fed by an edge: `<nodeId>.<field>`.
    let edgeFed: Set<String>

    public static func parse(_ json: JSONValue, schemas: InvocationSchemaTable) throws(WorkflowParseError) -> Workflow {
        guard json.objectValue != nil else { throw WorkflowParseError(message: "a workflow is a JSON object") }
        guard let rawNodes = json["nodes"]?.arrayValue else { throw WorkflowParseError(message: "no \"nodes\" list: not a workflow") }
        return Workflow(json, rawNodes: rawNodes, schemas: schemas)
    }

    private init(_ json: JSONValue, rawNodes: [JSONValue], schemas: InvocationSchemaTable) {
        definition = json
        name = json["name"]?.stringValue ?? ""
        description = json["description"]?.stringValue ?? ""
        var warnings: [WorkflowWarning] = []
        var nodes: [WorkflowNode] = []
        for raw in rawNodes {
            guard let node = WorkflowNode(raw, schemas: schemas) else {
                warnings.append(WorkflowWarning(nodeID: raw["id"]?.stringValue, field: nil, message: "a node without id or data is ignored"))
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
        let edges = (json["edges"]?.arrayValue ?? []).compactMap(WorkflowEdge.init)
        self.nodes = nodes
        self.edges = edges
        edgeFed = Set(edges.filter { $0.type != "collapsed" }.map { "\($0.target).\($0.targetHandle)" })

        let byID = Dictionary(nodes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var inputs: [WorkflowInput] = []
        var seen = Set<String>()
        for (nodeID, fieldName, formComponent) in Self.fieldReferences(json) {
            let systemName = "\(nodeID).\(fieldName)"
            guard !seen.contains(systemName) else { continue }
            guard let node = byID[nodeID], node.isInvocation else {
                warnings.append(WorkflowWarning(nodeID: nodeID, field: fieldName, message: "the form names node \(nodeID), which the workflow does not have"))
                continue
            }
            guard let template = node.template else { continue }  // already warned: unknown node type
            guard let field = template.inputs[fieldName] else {
                warnings.append(WorkflowWarning(nodeID: nodeID, field: fieldName, message: "node \(nodeID) (\(node.type)) has no field '\(fieldName)'"))
                continue
            }
            seen.insert(systemName)
            if edgeFed.contains(systemName) {
                warnings.append(WorkflowWarning(nodeID: nodeID, field: fieldName, message: "input \(systemName) is also fed by an edge: the edge's value is used"))
            }
            let stored = node.inputs[fieldName]
            let label = stored.map(\.label).flatMap { $0.isEmpty ? nil : $0 } ?? field.title
            let value = stored?.value
            inputs.append(WorkflowInput(
                index: inputs.count, systemName: systemName, label: label, fieldName: fieldName, nodeID: nodeID,
                nodeType: node.type, nodeLabel: node.label.isEmpty ? template.title : node.label,
                type: field.kind.description,
                schema: InputSchema.make(field, label: label, value: value, component: formComponent ?? field.jsonSchema["ui_component"]?.stringValue),
                required: field.required && Self.isEmpty(value) && !edgeFed.contains(systemName),
                value: value, template: field))
        }
        self.inputs = inputs

        // Required fields that nothing fills: InvokeAI would refuse the graph.
        let inputNames = Set(inputs.map(\.systemName))
        for node in nodes where node.isExecutable {
            for name in node.template!.fieldOrder {
                let field = node.template!.inputs[name]!
                let systemName = "\(node.id).\(name)"
                guard field.required, !inputNames.contains(systemName), !edgeFed.contains(systemName),
                      Self.isEmpty(node.inputs[name]?.value) else { continue }
                warnings.append(WorkflowWarning(nodeID: node.id, field: name, message: "node \(node.id) (\(node.type)) field '\(name)' is required and has no value, no edge and is not an input"))
            }
        }

        outputs = nodes.filter { $0.isExecutable && $0.template!.producesImages && !$0.isIntermediate }.map { node in
            WorkflowOutput(nodeID: node.id, nodeType: node.type, label: node.label.isEmpty ? node.template!.title : node.label,
                           boardInputIndex: inputs.first { $0.systemName == "\(node.id).board" }?.index)
        }
        self.warnings = warnings
        fingerprint = Self.hash(inputs.map { "\($0.systemName):\($0.type)" }.joined(separator: "\n"))
    }

    /// The `(nodeId, fieldName)` of every form field, depth-first pre-order from the form's root,
    /// with the component the form chose for it (`textarea` for a string); without a usable form,
    /// the legacy `exposedFields` in their order.
    static func fieldReferences(_ json: JSONValue) -> [(String, String, String?)] {
        if let form = json["form"], let root = form["rootElementId"]?.stringValue,
           let elements = form["elements"]?.objectValue, elements[root] != nil {
            var references: [(String, String, String?)] = []
            var visited = Set<String>()
            func walk(_ id: String) {
                guard !visited.contains(id), let element = elements[id] else { return }
                visited.insert(id)
                switch element["type"]?.stringValue {
                case "container":
                    for child in element["data"]?["children"]?.arrayValue ?? [] { if let child = child.stringValue { walk(child) } }
                case "node-field":
                    if let identifier = element["data"]?["fieldIdentifier"], let node = identifier["nodeId"]?.stringValue,
                       let field = identifier["fieldName"]?.stringValue {
                        references.append((node, field, element["data"]?["settings"]?["component"]?.stringValue))
                    }
                default:
                    break  // heading, text, divider: not inputs
                }
            }
            walk(root)
            if !references.isEmpty || (json["exposedFields"]?.arrayValue ?? []).isEmpty { return references }
        }
        return (json["exposedFields"]?.arrayValue ?? []).compactMap { field -> (String, String, String?)? in
            guard let node = field["nodeId"]?.stringValue, let name = field["fieldName"]?.stringValue else { return nil }
            return (node, name, nil)
        }
    }

    /// No value at all. An empty string is a value (InvokeAI takes "" for a text field).
    static func isEmpty(_ value: JSONValue?) -> Bool {
        value?.isNull ?? true
    }

    /// Two 64-bit FNV-1a hashes, hex: stable across processes and platforms.
    static func hash(_ text: String) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x84222325_cbf29ce4
        for byte in text.utf8 {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
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
