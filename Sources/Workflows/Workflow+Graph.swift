import Foundation
import JSONValue

extension Workflow {
    /// The `enqueue_batch` body the GUI would send for these inputs: value-only substitution into
    /// the nodes, executable nodes only, edge-fed fields omitted, batch nodes as `batch.data`.
    public func buildBatch(_ resolved: ResolvedInputs, origin: String, destination: String, prepend: Bool = false, runs: Int = 1) -> JSONValue {
        // Input values by node and field.
        var overrides: [String: [String: JSONValue]] = [:]
        for (systemName, value) in resolved.values {
            guard let dot = systemName.lastIndex(of: ".") else { continue }
            overrides[String(systemName[..<dot]), default: [:]][String(systemName[systemName.index(after: dot)...])] = value
        }

        let executable = nodes.filter(\.isExecutable)
        let executableIDs = Set(executable.map(\.id))
        var graphNodes: [String: JSONValue] = [:]
        for node in executable {
            let template = node.template!
            var fields: [String: JSONValue] = ["id": .string(node.id), "type": .string(node.type)]
            let names = Set(node.inputs.keys).union(overrides[node.id]?.keys ?? [:].keys)
            for name in names.sorted() {
                guard let field = template.inputs[name] else { continue }  // a field this InvokeAI no longer has
                guard let value = overrides[node.id]?[name] ?? node.inputs[name]?.value else { continue }
                if field.kind == .board {
                    // "auto" and "none" mean no board; a bare id is a board id.
                    switch value {
                    case .string("auto"), .string("none"), .null: continue
                    case .string(let id): fields[name] = ["board_id": .string(id)]
                    default: fields[name] = value
                    }
                } else {
                    fields[name] = value
                }
            }
            fields["use_cache"] = .bool(node.useCache)
            fields["is_intermediate"] = .bool(node.isIntermediate)
            graphNodes[node.id] = .object(fields)
        }

        var seen = Set<WorkflowEdge>()
        var graphEdges: [JSONValue] = []
        for edge in edges where edge.type != "collapsed" && executableIDs.contains(edge.source) && executableIDs.contains(edge.target)
            && !edge.sourceHandle.isEmpty && !edge.targetHandle.isEmpty && seen.insert(edge).inserted {
            graphEdges.append(["source": ["node_id": .string(edge.source), "field": .string(edge.sourceHandle)],
                               "destination": ["node_id": .string(edge.target), "field": .string(edge.targetHandle)]])
            // The edge's value wins: an explicit value could only make pydantic refuse the node.
            if case .object(var fields)? = graphNodes[edge.target] {
                fields[edge.targetHandle] = nil
                graphNodes[edge.target] = .object(fields)
            }
        }

        var workflow = definition.objectValue ?? [:]
        workflow["id"] = nil  // an embedded workflow has no id
        var batch: [String: JSONValue] = [
            "graph": ["id": .string(UUID().uuidString.lowercased()), "nodes": .object(graphNodes), "edges": .array(graphEdges)],
            "workflow": .object(workflow),
            "runs": .int(max(1, runs)),
            "origin": .string(origin),
            "destination": .string(destination),
        ]
        let data = batchData(overrides)
        if !data.isEmpty { batch["data"] = .array(data) }
        return ["prepend": .bool(prepend), "batch": .object(batch)]
    }

    /// Batch nodes' lists go to the fields their edges feed: one entry per node (product) when
    /// ungrouped, one zipped entry per batch group otherwise.
    func batchData(_ overrides: [String: [String: JSONValue]]) -> [JSONValue] {
        var data: [JSONValue] = []
        var groups: [String: [JSONValue]] = [:]
        var groupOrder: [String] = []
        for node in nodes where node.isBatch {
            let listNames = ["images", "strings", "integers", "floats", "items"]
            guard let items = listNames.lazy.compactMap({ overrides[node.id]?[$0] ?? node.inputs[$0]?.value }).first(where: { $0.arrayValue != nil }) else { continue }
            let group = (overrides[node.id]?["batch_group_id"] ?? node.inputs["batch_group_id"]?.value)?.stringValue ?? "None"
            let handle = node.type == "image_batch" ? "image" : "value"
            let entries: [JSONValue] = edges.filter { $0.source == node.id && $0.sourceHandle == handle && !$0.targetHandle.isEmpty }.map {
                ["node_path": .string($0.target), "field_name": .string($0.targetHandle), "items": items]
            }
            guard !entries.isEmpty else { continue }
            if group == "None" {
                data.append(.array(entries))
            } else {
                if groups[group] == nil { groupOrder.append(group) }
                groups[group, default: []] += entries
            }
        }
        for group in groupOrder { data.append(.array(groups[group]!)) }
        return data
    }
}
