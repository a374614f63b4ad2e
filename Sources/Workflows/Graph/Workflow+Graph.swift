import Foundation
import JSONValue

extension Workflow {
    /// The `enqueue_batch` body the GUI would send for these inputs: value-only substitution into
    /// the nodes, executable nodes only, edge-fed fields omitted, batch nodes as `batch.data`, the
    /// workflow embedded. Written straight to bytes: stored values and the workflow are copied
    /// from the definition's text as they are; only the inputs' values are written anew.
    /// `batchID`, when given, is the batch's id (InvokeAI takes the client's; the gateway derives
    /// it from an idempotency key, so the batch can be looked up after an ambiguous failure).
    public func buildBatch(
        _ resolved: ResolvedInputs, origin: String, destination: String, prepend: Bool = false, runs: Int = 1,
        batchID: String? = nil
    ) -> EnqueueBatchBody {
        let given = RunValues(resolved, in: self)
        var out: [UInt8] = []
        out.reserveCapacity(document.bytes.count + 1024 * nodes.count)
        var steps: [String: Int] = [:]
        out.append(prepend ? #"{"prepend":true,"batch":{"graph":{"id":"# : #"{"prepend":false,"batch":{"graph":{"id":"#)
        JSONValue.writeString(RandomUUID.string(), to: &out)
        out.append(#","nodes":{"#)
        for (i, graphNode) in graphNodes.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            document.appendRaw(at: graphNode.node.idPosition, to: &out)
            out.append(UInt8(ascii: ":"))
            writeGraphNode(graphNode, given: given.values(of: graphNode.index), steps: &steps, to: &out)
        }
        out.append(#"},"edges":["#)
        for (i, edge) in graphEdges.enumerated() {
            out.append(i == 0 ? #"{"source":{"node_id":"# : #",{"source":{"node_id":"#)
            document.appendRaw(at: edge.source, to: &out)
            out.append(#","field":"#)
            document.appendRaw(at: edge.sourceHandle, to: &out)
            out.append(#"},"destination":{"node_id":"#)
            document.appendRaw(at: edge.target, to: &out)
            out.append(#","field":"#)
            document.appendRaw(at: edge.targetHandle, to: &out)
            out.append("}}")
        }
        out.append(#"]},"workflow":"#)
        writeEmbeddedWorkflow(to: &out)
        out.append(#","runs":"#)
        out.append(contentsOf: String(max(1, runs)).utf8)
        out.append(#","origin":"#)
        JSONValue.writeString(origin, to: &out)
        out.append(#","destination":"#)
        JSONValue.writeString(destination, to: &out)
        if let batchID {
            out.append(#","batch_id":"#)
            JSONValue.writeString(batchID, to: &out)
        }
        let data = batchData(given)
        if !data.isEmpty {
            out.append(#","data":"#)
            JSONValue.array(data).write(to: &out)
        }
        out.append("}}")
        return EnqueueBatchBody(bytes: out, nodeSteps: steps)
    }

    /// One graph node: id and type, its stored fields that no graph edge feeds (the run's value
    /// instead where it has one), the run's values for fields it does not store, `use_cache` (off
    /// for output nodes) and `is_intermediate`.
    private func writeGraphNode(
        _ graphNode: GraphNode, given: ArraySlice<RunValues.Entry>, steps: inout [String: Int], to out: inout [UInt8]
    ) {
        let node = graphNode.node
        out.append(#"{"id":"#)
        document.appendRaw(at: node.idPosition, to: &out)
        out.append(#","type":"#)
        JSONValue.writeString(node.type, to: &out)
        writeStoredFields(of: graphNode, given: given, steps: &steps, to: &out)
        if !given.isEmpty { writeFieldsNotStored(of: graphNode, given: given, steps: &steps, to: &out) }
        // Output nodes never answer from InvokeAI's cache: a cached result hands out the image an
        // earlier run made, and the two runs would then share (and could delete) one image.
        // Each run's outputs are its own; the nodes feeding them still use the cache.
        let isOutput = graphNode.template.producesImages && !node.isIntermediate
        out.append(node.useCache && !isOutput ? #","use_cache":true"# : #","use_cache":false"#)
        out.append(node.isIntermediate ? #","is_intermediate":true}"# : #","is_intermediate":false}"#)
    }

    private func writeStoredFields(
        of graphNode: GraphNode, given: ArraySlice<RunValues.Entry>, steps: inout [String: Int],
        to out: inout [UInt8]
    ) {
        for field in graphNode.node.fields
        where !fieldUses[NodeField(node: graphNode.index, ordinal: field.ordinal)].isGraphFed {
            let value = given.isEmpty ? nil : given.first { $0.field.ordinal == field.ordinal }?.value
            if field.isBoard {
                let name = graphNode.template.orderedInputs[field.ordinal].name
                writeBoard(value, stored: field.value, name: name, to: &out)
                continue
            }
            guard value != nil || field.value != nil else { continue }
            out.append(UInt8(ascii: ","))
            document.appendRaw(at: field.key, to: &out)
            out.append(UInt8(ascii: ":"))
            if let value {
                value.write(to: &out)
            } else if let stored = field.value {
                document.appendRaw(at: stored, to: &out)
            }
            if field.isSteps, let count = value?.intValue ?? field.value.flatMap(document.int(at:)), count > 0 {
                steps[graphNode.node.id] = count
            }
        }
    }

    /// The run's values for fields the definition does not store, by name.
    private func writeFieldsNotStored(
        of graphNode: GraphNode, given: ArraySlice<RunValues.Entry>, steps: inout [String: Int],
        to out: inout [UInt8]
    ) {
        let template = graphNode.template
        let unstored = given.filter {
            graphNode.node.field(ordinal: $0.field.ordinal) == nil && !fieldUses[$0.field].isGraphFed
        }
        for entry in unstored.sorted(by: {
            template.orderedInputs[$0.field.ordinal].name < template.orderedInputs[$1.field.ordinal].name
        }) {
            let field = template.orderedInputs[entry.field.ordinal]
            if field.kind == .board {
                writeBoard(entry.value, stored: nil, name: field.name, to: &out)
                continue
            }
            out.append(UInt8(ascii: ","))
            JSONValue.writeString(field.name, to: &out)
            out.append(UInt8(ascii: ":"))
            entry.value.write(to: &out)
            if entry.field.ordinal == template.stepsOrdinal, let count = entry.value.intValue, count > 0 {
                steps[graphNode.node.id] = count
            }
        }
    }

    /// A board field: "auto" and "none" mean no board (the field is left out); a bare id is a board id.
    private func writeBoard(_ given: JSONValue?, stored: Int?, name: String, to out: inout [UInt8]) {
        let id: String?
        switch given {
        case .string("auto")?, .string("none")?, .null?: return
        case .string(let value)?: id = value
        case nil:
            guard let stored, !document.string(at: stored, equals: "auto"), !document.string(at: stored, equals: "none")
            else { return }
            id = document.string(at: stored)
        default: id = nil
        }
        out.append(UInt8(ascii: ","))
        JSONValue.writeString(name, to: &out)
        out.append(UInt8(ascii: ":"))
        if let id {
            out.append(#"{"board_id":"#)
            JSONValue.writeString(id, to: &out)
            out.append(UInt8(ascii: "}"))
        } else if let given {
            given.write(to: &out)
        } else if let stored {
            document.appendRaw(at: stored, to: &out)
        }
    }

    /// The definition without its `id` (an embedded workflow has none), copied from its text.
    private func writeEmbeddedWorkflow(to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in document.members(of: 0) where !document.string(at: key, equals: "id") {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            document.appendRaw(at: key, to: &out)
            out.append(UInt8(ascii: ":"))
            document.appendRaw(at: value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Batch nodes' lists go to the fields their edges feed: one entry per node (product) when
    /// ungrouped, one zipped entry per batch group otherwise.
    func batchData(_ given: RunValues) -> [JSONValue] {
        var data: [JSONValue] = []
        var groups: [(name: String, entries: [JSONValue])] = []
        for index in nodes.indices where nodes[index].isBatch {
            let node = nodes[index]
            func value(_ name: String) -> JSONValue? {
                guard let ordinal = node.template?.ordinal(of: name) else { return nil }
                return given.value(of: NodeField(node: index, ordinal: ordinal))
                    ?? node.field(ordinal: ordinal)?.value.map(document.value(at:))
            }
            let listNames = ["images", "strings", "integers", "floats", "items"]
            guard let items = listNames.lazy.compactMap(value).first(where: { $0.arrayValue != nil }) else { continue }
            let entries = batchEntries(of: index, handle: node.type == "image_batch" ? "image" : "value", items: items)
            guard !entries.isEmpty else { continue }
            let group = value("batch_group_id")?.stringValue ?? "None"
            if group == "None" {
                data.append(.array(entries))
            } else if let place = groups.firstIndex(where: { $0.name == group }) {
                groups[place].entries += entries
            } else {
                groups.append((group, entries))
            }
        }
        return data + groups.map { .array($0.entries) }
    }

    /// A batch node's list to each field its `handle` feeds.
    private func batchEntries(of node: NodeIndex, handle: String, items: JSONValue) -> [JSONValue] {
        edges.compactMap { edge in
            guard edge.sourceNode == node, let source = edge.sourceHandle, document.string(at: source, equals: handle),
                let target = edge.targetHandle
            else { return nil }
            // Both are strings (`WorkflowEdge` keeps no other).
            return [
                "node_path": .string(document.string(at: edge.target) ?? ""),
                "field_name": .string(document.string(at: target) ?? ""), "items": items,
            ]
        }
    }
}

private extension [UInt8] {
    /// Appends a literal's UTF-8 in one copy.
    mutating func append(_ literal: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }
}

/// An `enqueue_batch` request body, written out: what the gateway posts to InvokeAI.
public struct EnqueueBatchBody: Sendable {
    public let bytes: [UInt8]
    /// The `steps` of each graph node that has them (denoising), to count progress by.
    public let nodeSteps: [String: Int]

    /// The body as a value, for tests and diagnostics.
    public var json: JSONValue { try! FastJSONParser.parse(bytes) }
}
