import JSONValue

@testable import Workflows

/// The engine's reading of a workflow and its `enqueue_batch` body, worked out again the plain
/// way: `JSONValue` lookups by name and dictionaries keyed by node id and field name, none of the
/// engine's tape positions, tables or byte writing. Slow and obviously right, to compare the
/// engine against (`ReferenceGraphTests`).
enum ReferenceGraph {
    /// A node of the definition.
    struct Node {
        let id: String
        /// The type the definition gives (the template's, when InvokeAI knows it).
        let type: String
        let data: JSONValue
        let isInvocation: Bool
        let template: InvocationTemplate?

        var isBatch: Bool { isInvocation && ReferenceGraph.batchTypes.contains(type) }
        /// Goes into the graph: a known invocation other than a batch node or a generator.
        var isExecutable: Bool {
            guard let template else { return false }
            return !ReferenceGraph.batchTypes.contains(template.type) && !template.type.hasSuffix("_generator")
        }
        var isIntermediate: Bool { data["isIntermediate"]?.boolValue ?? false }
        var isOutput: Bool { isExecutable && template?.producesImages == true && !isIntermediate }

        /// The stored value of a field the template has; nil when missing or null.
        func stored(_ field: String) -> JSONValue? {
            guard template?.inputs[field] != nil, let value = data["inputs"]?[field]?["value"], value != .null else {
                return nil
            }
            return value
        }
    }

    struct Edge {
        let source: String
        let target: String
        let sourceHandle: String?
        let targetHandle: String?
        /// nil when missing, not a string or `default`.
        let type: String?
        let isCollapsed: Bool
    }

    /// Values to write, by node id and field name: what a request gave, the run's board, the
    /// models standing in for stored ones.
    typealias Values = [String: [String: JSONValue]]

    static let batchTypes: Set<String> = ["image_batch", "string_batch", "integer_batch", "float_batch"]

    static func nodes(_ definition: JSONValue, _ schemas: InvocationSchemaTable) -> [Node] {
        (definition["nodes"]?.arrayValue ?? []).compactMap { node in
            guard let data = node["data"], let id = node["id"]?.stringValue ?? data["id"]?.stringValue else {
                return nil
            }
            // Old exports have no `type`: invocations.
            let isInvocation = node["type"].map { $0 == "invocation" || $0.stringValue == nil } ?? true
            let type = data["type"]?.stringValue ?? ""
            return Node(
                id: id, type: type, data: data, isInvocation: isInvocation,
                template: isInvocation ? schemas[type] : nil)
        }
    }

    static func edges(_ definition: JSONValue) -> [Edge] {
        (definition["edges"]?.arrayValue ?? []).compactMap { edge in
            guard let source = edge["source"]?.stringValue, let target = edge["target"]?.stringValue else {
                return nil
            }
            func handle(_ name: String) -> String? { edge[name]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
            let type = edge["type"]?.stringValue
            return Edge(
                source: source, target: target, sourceHandle: handle("sourceHandle"),
                targetHandle: handle("targetHandle"), type: type == "default" ? nil : type,
                isCollapsed: type == "collapsed")
        }
    }

    /// Each id's node: the first with it.
    static func firstByID(_ nodes: [Node]) -> [String: Int] {
        var byID: [String: Int] = [:]
        for (i, node) in nodes.enumerated() where byID[node.id] == nil { byID[node.id] = i }
        return byID
    }

    // MARK: inputs

    /// The form's fields as (node id, field name), depth-first from its root; without a form that
    /// names any, the exposed fields. Stale ones (no such node, type or field) and repeats left out.
    static func inputs(_ definition: JSONValue, _ schemas: InvocationSchemaTable) -> [(node: String, field: String)] {
        let nodes = nodes(definition, schemas), byID = firstByID(nodes)
        var seen = Set<String>()
        return formFields(definition).filter { reference in
            guard let i = byID[reference.node], nodes[i].isInvocation,
                nodes[i].template?.inputs[reference.field] != nil
            else { return false }
            return seen.insert("\(reference.node).\(reference.field)").inserted
        }
    }

    static func formFields(_ definition: JSONValue) -> [(node: String, field: String)] {
        let exposed = definition["exposedFields"]?.arrayValue ?? []
        if let form = definition["form"], let root = form["rootElementId"]?.stringValue,
            let elements = form["elements"]?.objectValue, elements[root] != nil
        {
            var fields: [(node: String, field: String)] = []
            var visited = Set<String>()
            var stack = [root]
            while let id = stack.popLast() {
                guard let element = elements[id], visited.insert(id).inserted,
                    let type = element["type"], let data = element["data"]
                else { continue }
                if type == "container" {
                    stack += (data["children"]?.arrayValue ?? []).compactMap(\.stringValue).reversed()
                } else if type == "node-field", let identifier = data["fieldIdentifier"],
                    let node = identifier["nodeId"]?.stringValue, let field = identifier["fieldName"]?.stringValue
                {
                    fields.append((node, field))
                }
            }
            if !fields.isEmpty || exposed.isEmpty { return fields }
        }
        return exposed.compactMap { field in
            guard let node = field["nodeId"]?.stringValue, let name = field["fieldName"]?.stringValue else {
                return nil
            }
            return (node, name)
        }
    }

    // MARK: what a run adds

    /// The run's board on every output node with a board field that the request leaves alone.
    static func addBoard(
        _ board: JSONValue, to values: inout Values, _ definition: JSONValue, _ schemas: InvocationSchemaTable
    ) {
        let given = values
        for node in nodes(definition, schemas) where node.isOutput && node.template?.inputs["board"] != nil {
            if given[node.id]?["board"] == nil { values[node.id, default: [:]]["board"] = board }
        }
    }

    /// An installed model standing in for each stored model identifier of a graph node that no
    /// graph edge feeds and the request does not give, as `Workflow.resolveModels` promises: none
    /// when the stored key is installed; else the only model of its name, base and type (the
    /// field's filters standing in for a base or type it lacks).
    static func addStandIns(
        _ installed: [InstalledModel], to values: inout Values, _ definition: JSONValue,
        _ schemas: InvocationSchemaTable
    ) {
        let nodes = nodes(definition, schemas), fed = graphFed(nodes, graphEdges(nodes, edges(definition)))
        let given = values
        for (i, node) in nodes.enumerated() where node.isExecutable {
            for (name, field) in node.template!.inputs where field.kind == .model && !fed.contains(Slot(i, name)) {
                guard given[node.id]?[name] == nil, let stored = node.stored(name),
                    let model = standIn(for: stored, field, installed)
                else { continue }
                values[node.id, default: [:]][name] = model.identifier
            }
        }
    }

    static func standIn(for stored: JSONValue, _ field: FieldTemplate, _ installed: [InstalledModel]) -> InstalledModel?
    {
        func text(_ name: String) -> String? { stored[name]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
        if let key = text("key"), installed.contains(where: { $0.key == key }) { return nil }
        guard let name = text("name") else { return nil }
        let bases = text("base").map { [$0] } ?? field.modelBases, types = text("type").map { [$0] } ?? field.modelTypes
        let named = installed.filter {
            $0.name == name && (bases.isEmpty || bases.contains($0.base)) && (types.isEmpty || types.contains($0.type))
        }
        return named.count == 1 ? named[0] : nil
    }

    // MARK: the graph

    struct Slot: Hashable {
        let node: Int
        let field: String
        init(_ node: Int, _ field: String) {
            self.node = node
            self.field = field
        }
    }

    /// Edges between graph nodes with both handles, each connection once (type `default` and
    /// none being the same), as (source node, target node, edge).
    static func graphEdges(_ nodes: [Node], _ edges: [Edge]) -> [(source: Int, target: Int, edge: Edge)] {
        let byID = firstByID(nodes)
        var seen = Set<[String?]>()
        var kept: [(source: Int, target: Int, edge: Edge)] = []
        for edge in edges where !edge.isCollapsed {
            guard let source = byID[edge.source], let target = byID[edge.target], edge.sourceHandle != nil,
                edge.targetHandle != nil, nodes[source].isExecutable, nodes[target].isExecutable
            else { continue }
            let identity = [String(source), edge.sourceHandle, String(target), edge.targetHandle, edge.type]
            if seen.insert(identity).inserted { kept.append((source, target, edge)) }
        }
        return kept
    }

    static func graphFed(_ nodes: [Node], _ graphEdges: [(source: Int, target: Int, edge: Edge)]) -> Set<Slot> {
        Set(graphEdges.map { Slot($0.target, $0.edge.targetHandle!) })
    }

    /// A board value as the graph takes it: none for "auto", "none" or null, an id as a BoardField.
    static func board(_ value: JSONValue?) -> JSONValue? {
        switch value {
        case nil, .null?, .string("auto")?, .string("none")?: nil
        case .string(let id)?: ["board_id": .string(id)]
        case let other?: other
        }
    }

    /// The `enqueue_batch` body, and the denoising steps of each graph node that has them.
    static func batch(
        _ definition: JSONValue, _ schemas: InvocationSchemaTable, values: Values, graphID: String, origin: String,
        destination: String, prepend: Bool, runs: Int, batchID: String?
    ) -> (body: JSONValue, steps: [String: Int]) {
        let nodes = nodes(definition, schemas), edges = edges(definition)
        let kept = graphEdges(nodes, edges), fed = graphFed(nodes, kept)
        var graphNodes = JSONObject()
        var steps: [String: Int] = [:]
        for (i, node) in nodes.enumerated() where node.isExecutable {
            let template = node.template!
            var object: JSONObject = ["id": .string(node.id), "type": .string(template.type)]
            for (name, field) in template.inputs where !fed.contains(Slot(i, name)) {
                let value = values[node.id]?[name] ?? node.stored(name)
                object[name] = field.kind == .board ? board(value) : value
                if name == "steps", let count = value?.intValue, count > 0 { steps[node.id] = count }
            }
            // Output nodes never answer from the cache.
            object["use_cache"] = .bool((node.data["useCache"]?.boolValue ?? true) && !node.isOutput)
            object["is_intermediate"] = .bool(node.isIntermediate)
            graphNodes[node.id] = .object(object)
        }
        let graphEdges: [JSONValue] = kept.map {
            [
                "source": ["node_id": .string($0.edge.source), "field": .string($0.edge.sourceHandle!)],
                "destination": ["node_id": .string($0.edge.target), "field": .string($0.edge.targetHandle!)],
            ]
        }
        var workflow = definition.objectValue ?? [:]
        workflow["id"] = nil
        var batch: JSONObject = [
            "graph": ["id": .string(graphID), "nodes": .object(graphNodes), "edges": .array(graphEdges)],
            "workflow": .object(workflow), "runs": .int(max(1, runs)), "origin": .string(origin),
            "destination": .string(destination),
        ]
        if let batchID { batch["batch_id"] = .string(batchID) }
        let data = batchData(nodes, edges, values)
        if !data.isEmpty { batch["data"] = .array(data) }
        return (["prepend": .bool(prepend), "batch": .object(batch)], steps)
    }

    /// Each batch node's list, to every field its edges feed: one entry per ungrouped node, one
    /// zipped entry per group, groups in the order they first appear.
    static func batchData(_ nodes: [Node], _ edges: [Edge], _ values: Values) -> [JSONValue] {
        let byID = firstByID(nodes)
        var data: [JSONValue] = []
        var groups: [String: [JSONValue]] = [:], groupOrder: [String] = []
        for (i, node) in nodes.enumerated() where node.isBatch {
            func value(_ name: String) -> JSONValue? { values[node.id]?[name] ?? node.stored(name) }
            let lists = ["images", "strings", "integers", "floats", "items"].compactMap(value)
            guard let items = lists.first(where: { $0.arrayValue != nil }) else { continue }
            let handle = node.type == "image_batch" ? "image" : "value"
            let entries: [JSONValue] = edges.compactMap { edge in
                guard byID[edge.source] == i, edge.sourceHandle == handle, let field = edge.targetHandle else {
                    return nil
                }
                return ["node_path": .string(edge.target), "field_name": .string(field), "items": items]
            }
            guard !entries.isEmpty else { continue }
            let group = value("batch_group_id")?.stringValue ?? "None"
            if group == "None" {
                data.append(.array(entries))
            } else {
                if groups[group] == nil { groupOrder.append(group) }
                groups[group, default: []] += entries
            }
        }
        return data + groupOrder.map { .array(groups[$0]!) }
    }
}
