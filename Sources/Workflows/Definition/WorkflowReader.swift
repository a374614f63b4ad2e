import JSONValue

/// Reads a definition into what a `Workflow` keeps, one named step at a time, each step using
/// what the earlier ones found. Warnings and issues gather in the order a person meets them:
/// the nodes, the generators, the form, then what nothing fills.
struct WorkflowReader {
    let document: JSONDocument
    let schemas: InvocationSchemaTable
    private(set) var warnings: [WorkflowWarning] = []
    private(set) var issues: [RunnabilityIssue] = []

    private(set) var nodes = NodeTable<WorkflowNode>()
    private(set) var repeatedIDs = RepeatedIDs()
    /// Nodes by the bytes of their id (the first of a repeated id): edges and the form name them so.
    private var nodeIDs: JSONStringIndex
    /// Known generator nodes: rare, looked at again once the edges are read.
    private var generators: [NodeIndex] = []
    private(set) var edges: [WorkflowEdge] = []
    private(set) var graphEdges: [GraphEdge] = []
    /// What the workflow does with each template field of each node.
    private(set) var fieldUses = FieldTable<FieldUse>()
    private(set) var inputs: [WorkflowInput] = []

    init(_ document: JSONDocument, schemas: InvocationSchemaTable, nodeList: Int) {
        self.document = document
        self.schemas = schemas
        nodeIDs = JSONStringIndex(document, capacity: document.count(at: nodeList))
    }

    // MARK: nodes and edges

    /// The nodes, each matched to its template: unknown types and generators are warned about.
    mutating func readNodes(_ list: Int) {
        let document = document
        nodes.reserveCapacity(document.count(at: list))
        document.forEachItem(of: list) { item in
            guard let node = WorkflowNode(at: item, in: document, schemas: schemas) else {
                warnings.append(
                    WorkflowWarning(
                        nodeID: document.string("id", of: item), field: nil,
                        message: "a node without id or data is ignored"))
                return
            }
            let index = nodes.append(node)
            if node.isInvocation { checkType(of: node, at: index) }
            if let first = nodeIDs.value(forStringAt: node.idPosition) {
                repeatedIDs.add(index, repeating: NodeIndex(first))
            } else {
                nodeIDs.set(index.rawValue, forStringAt: node.idPosition)
            }
        }
        fieldUses = FieldTable(nodes, repeating: FieldUse())
    }

    private mutating func checkType(of node: WorkflowNode, at index: NodeIndex) {
        if node.template == nil {
            warnings.append(
                WorkflowWarning(
                    nodeID: node.id, field: nil, message: "node type '\(node.type)' is not known to this InvokeAI"))
            // Left out, the graph would run and do something else; sent, InvokeAI refuses it.
            issues.append(
                RunnabilityIssue(
                    kind: .unknownNodeType, nodeID: node.id, nodeType: node.type,
                    message: "node \(node.id) has type '\(node.type)', which this InvokeAI does not know"))
        }
        if node.template?.isGeneratorNode ?? InvocationTemplate.isGenerator(node.type) {
            warnings.append(
                WorkflowWarning(
                    nodeID: node.id, field: nil,
                    message: "generator node '\(node.type)' is not supported by the gateway; its values are not sent"))
            if node.template != nil { generators.append(index) }
        }
    }

    mutating func readEdges() {
        guard let list = document.member("edges", of: 0, kind: .array) else { return }
        let document = document
        edges.reserveCapacity(document.count(at: list))
        document.forEachItem(of: list) { item in
            if let edge = WorkflowEdge(at: item, in: document, nodes: nodeIDs) { edges.append(edge) }
        }
    }

    /// A generator is harmless alone; one that feeds a batch or graph node makes the run use
    /// that node's stored values (or none) instead of the generated ones.
    mutating func checkGenerators() {
        for generator in generators {
            let fed = edges.compactMap { edge -> String? in
                guard edge.sourceNode == generator, !edge.isCollapsed, let target = edge.targetNode,
                    nodes[target].isExecutable || nodes[target].isBatch
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
    }

    /// Marks the fields edges feed, and keeps the graph's edges. Any non-collapsed edge from a
    /// node the workflow has feeds its field (one from a node it lacks feeds nothing: the GUI
    /// drops it on load); only graph edges (distinct, between executable nodes) take the field out
    /// of the graph node.
    mutating func selectGraphEdges() {
        var duplicates = DuplicateEdges(document)
        for edge in edges where !edge.isCollapsed {
            guard let target = edge.targetNode, let targetHandle = edge.targetHandle else { continue }
            let field = nodes[target].ordinal(ofFieldNamedAt: targetHandle, in: document).map {
                NodeField(node: target, ordinal: $0)
            }
            if let field, edge.sourceNode != nil { fieldUses[field].isEdgeFed = true }
            guard let source = edge.sourceNode, let sourceHandle = edge.sourceHandle, nodes[source].isExecutable,
                nodes[target].isExecutable
            else { continue }
            let graphEdge = GraphEdge(
                source: edge.source, sourceHandle: sourceHandle, target: edge.target, targetHandle: targetHandle,
                type: edge.type, sourceNode: source, targetNode: target)
            // An edge into a field no graph edge feeds yet cannot repeat an earlier one.
            let mayRepeat = field.map { fieldUses[$0].isGraphFed } ?? true
            guard !duplicates.repeats(graphEdge, kept: graphEdges, mayRepeat: mayRepeat) else { continue }
            graphEdges.append(graphEdge)
            if let field { fieldUses[field].isGraphFed = true }
        }
    }

    // MARK: the form

    /// The form's fields, in its order, as inputs; stale references become warnings.
    mutating func collectInputs(_ formFields: [WorkflowForm.Field]) {
        inputs.reserveCapacity(formFields.count)
        for formField in formFields {
            guard let found = nodeIDs.value(forStringAt: formField.node), nodes[NodeIndex(found)].isInvocation else {
                let nodeID = document.string(at: formField.node) ?? ""
                warnings.append(
                    WorkflowWarning(
                        nodeID: nodeID, field: document.string(at: formField.field),
                        message: "the form names node \(nodeID), which the workflow does not have"))
                continue
            }
            let index = NodeIndex(found), node = nodes[index]
            guard let template = node.template else { continue } // already warned: unknown node type
            guard let ordinal = node.ordinal(ofFieldNamedAt: formField.field, in: document) else {
                let fieldName = document.string(at: formField.field) ?? ""
                warnings.append(
                    WorkflowWarning(
                        nodeID: node.id, field: fieldName,
                        message: "node \(node.id) (\(node.type)) has no field '\(fieldName)'"))
                continue
            }
            let field = NodeField(node: index, ordinal: ordinal)
            guard fieldUses[field].input == nil else { continue }
            fieldUses[field].input = inputs.count
            inputs.append(input(field, of: node, template, component: formField.component))
        }
    }

    private mutating func input(
        _ field: NodeField, of node: WorkflowNode, _ template: InvocationTemplate, component: Int?
    ) -> WorkflowInput {
        let fieldTemplate = template.orderedInputs[field.ordinal]
        let systemName = Self.join(node.id, fieldTemplate.name)
        let isEdgeFed = fieldUses[field].isEdgeFed
        if isEdgeFed {
            warnings.append(
                WorkflowWarning(
                    nodeID: node.id, field: fieldTemplate.name,
                    message: "input \(systemName) is also fed by an edge: the edge's value is used"))
        }
        let stored = node.field(ordinal: field.ordinal)
        let label =
            stored?.label.flatMap(document.string(at:)).flatMap { $0.isEmpty ? nil : $0 } ?? fieldTemplate.title
        let value = stored?.value.map(document.value(at:))
        return WorkflowInput(
            index: inputs.count, systemName: systemName, label: label, fieldName: fieldTemplate.name,
            nodeID: node.id, nodeType: node.type, nodeLabel: node.label.isEmpty ? template.title : node.label,
            type: fieldTemplate.kind.description, required: fieldTemplate.required && value == nil && !isEdgeFed,
            value: value, template: fieldTemplate,
            component: component.flatMap(document.string(at:)) ?? fieldTemplate.uiComponent, field: field)
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

    // MARK: what the graph needs

    /// Required fields of graph nodes that nothing fills: InvokeAI would refuse the graph. (A
    /// required input with no value is the request's to fill: `validate` asks for it.)
    mutating func checkRequiredFields() {
        for index in nodes.indices where nodes[index].isExecutable {
            let node = nodes[index]
            guard let template = node.template else { continue }
            for ordinal in template.requiredOrdinals where node.field(ordinal: ordinal)?.value == nil {
                let use = fieldUses[NodeField(node: index, ordinal: ordinal)]
                guard !use.isEdgeFed, use.input == nil else { continue }
                let name = template.orderedInputs[ordinal].name
                let message =
                    "node \(node.id) (\(node.type)) field '\(name)' is required and has no value, no edge and is not an input"
                warnings.append(WorkflowWarning(nodeID: node.id, field: name, message: message))
                issues.append(
                    RunnabilityIssue(kind: .missingRequiredValue, nodeID: node.id, field: name, message: message))
            }
        }
    }

    /// The graph's nodes, in order, each with its template.
    func graphNodes() -> [GraphNode] {
        nodes.indices.compactMap { index in
            let node = nodes[index]
            guard node.isExecutable, let template = node.template else { return nil }
            return GraphNode(index: index, node: node, template: template)
        }
    }

    /// Model fields of graph nodes whose stored identifier the graph sends (no graph edge feeds
    /// them), in node order.
    func storedModels(of graphNodes: [GraphNode]) -> [StoredModel] {
        var models: [StoredModel] = []
        for graphNode in graphNodes {
            for ordinal in graphNode.template.modelOrdinals {
                let field = NodeField(node: graphNode.index, ordinal: ordinal)
                guard !fieldUses[field].isGraphFed, let value = graphNode.node.field(ordinal: ordinal)?.value else {
                    continue
                }
                models.append(
                    StoredModel(
                        field: field, canonical: repeatedIDs.canonical(field, in: nodes), value: value,
                        template: graphNode.template.orderedInputs[ordinal]))
            }
        }
        return models
    }

    /// The graph nodes whose images are the workflow's outputs (not intermediate).
    func outputs(of graphNodes: [GraphNode]) -> [WorkflowOutput] {
        graphNodes.compactMap { graphNode in
            let node = graphNode.node, template = graphNode.template
            guard template.producesImages, !node.isIntermediate else { return nil }
            let board = template.ordinal(of: "board").map { NodeField(node: graphNode.index, ordinal: $0) }
            return WorkflowOutput(
                nodeID: node.id, nodeType: node.type, label: node.label.isEmpty ? template.title : node.label,
                boardInputIndex: board.flatMap { fieldUses[$0].input },
                boardField: board.map { repeatedIDs.canonical($0, in: nodes) })
        }
    }
}

/// Finds graph edges that repeat an earlier one (an editor can hold duplicates: the graph takes
/// one). Edges are compared by identity (node positions, handles and type by their interned
/// text) only from the first that might repeat one, so most workflows intern nothing.
private struct DuplicateEdges {
    private var handles: JSONStringIndex
    private var seen: Set<WorkflowEdge.Identity>?

    init(_ document: JSONDocument) { handles = JSONStringIndex(document, capacity: 16) }

    /// Whether `edge` repeats one of `kept` (the edges kept so far, this one to be kept if not).
    /// `mayRepeat`: false when it cannot, as long as no edge before it could either.
    mutating func repeats(_ edge: GraphEdge, kept: [GraphEdge], mayRepeat: Bool) -> Bool {
        if seen == nil {
            guard mayRepeat else { return false }
            var identities = Set<WorkflowEdge.Identity>()
            for earlier in kept { identities.insert(identity(earlier)) }
            seen = identities
        }
        let identity = identity(edge)
        return seen?.insert(identity).inserted == false
    }

    private mutating func identity(_ edge: GraphEdge) -> WorkflowEdge.Identity {
        WorkflowEdge.Identity(
            source: edge.sourceNode, sourceHandle: intern(edge.sourceHandle), target: edge.targetNode,
            targetHandle: intern(edge.targetHandle), type: edge.type.map { intern($0) } ?? -1)
    }

    /// The first position of a string with the same text (handles and types are strings).
    private mutating func intern(_ position: Int) -> Int {
        handles.valueInserting(position, forStringAt: position) ?? position
    }
}
