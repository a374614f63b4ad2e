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
        // Input values by node and field.
        var overrides: [String: [String: JSONValue]] = [:]
        for (systemName, value) in resolved.values {
            guard let dot = systemName.lastIndex(of: ".") else { continue }
            overrides[String(systemName[..<dot]), default: [:]][String(systemName[systemName.index(after: dot)...])] =
                value
        }

        var out: [UInt8] = []
        out.reserveCapacity(document.bytes.count + 1024 * nodes.count)
        var steps: [String: Int] = [:]
        out.append(prepend ? #"{"prepend":true,"batch":{"graph":{"id":"# : #"{"prepend":false,"batch":{"graph":{"id":"#)
        JSONValue.writeString(RandomUUID.string(), to: &out)
        out.append(#","nodes":{"#)
        for (i, position) in graphNodes.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            document.appendRaw(at: nodes[position].idPosition, to: &out)
            out.append(UInt8(ascii: ":"))
            writeGraphNode(position, overrides: overrides[nodes[position].id], steps: &steps, to: &out)
        }
        out.append(#"},"edges":["#)
        for (i, edge) in graphEdges.enumerated() {
            out.append(i == 0 ? #"{"source":{"node_id":"# : #",{"source":{"node_id":"#)
            document.appendRaw(at: edge.source, to: &out)
            out.append(#","field":"#)
            document.appendRaw(at: edge.sourceHandle!, to: &out)
            out.append(#"},"destination":{"node_id":"#)
            document.appendRaw(at: edge.target, to: &out)
            out.append(#","field":"#)
            document.appendRaw(at: edge.targetHandle!, to: &out)
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
        let data = batchData(overrides)
        if !data.isEmpty {
            out.append(#","data":"#)
            JSONValue.array(data).write(to: &out)
        }
        out.append("}}")
        return EnqueueBatchBody(bytes: out, nodeSteps: steps)
    }

    /// One graph node: id and type, its stored fields that no graph edge feeds (an input's value
    /// instead where one is given), `use_cache` (off for output nodes) and `is_intermediate`.
    private func writeGraphNode(
        _ position: Int, overrides: [String: JSONValue]?, steps: inout [String: Int], to out: inout [UInt8]
    ) {
        let node = nodes[position], base = fieldBase[position]
        func isGraphFed(_ name: String) -> Bool {
            node.template!.ordinal(of: name).map { graphFed[base + $0] } ?? false
        }
        out.append(#"{"id":"#)
        document.appendRaw(at: node.idPosition, to: &out)
        out.append(#","type":"#)
        JSONValue.writeString(node.type, to: &out)
        for field in node.fields where !graphFed[base + field.ordinal] {
            let given = overrides?[node.name(of: field)]
            if field.isBoard {
                writeBoard(given, stored: field.value, name: node.name(of: field), to: &out)
                continue
            }
            guard given != nil || field.value != nil else { continue }
            out.append(UInt8(ascii: ","))
            document.appendRaw(at: field.key, to: &out)
            out.append(UInt8(ascii: ":"))
            if let given { given.write(to: &out) } else { document.appendRaw(at: field.value!, to: &out) }
            if field.isSteps, let count = given?.intValue ?? field.value.flatMap(document.int(at:)), count > 0 {
                steps[node.id] = count
            }
        }
        // Inputs for fields the definition does not store.
        for (name, given) in (overrides ?? [:]).sorted(by: { $0.key < $1.key })
        where node.field(name) == nil && !isGraphFed(name) {
            guard let field = node.template!.inputs[name] else { continue } // a field this InvokeAI no longer has
            if field.kind == .board { writeBoard(given, stored: nil, name: name, to: &out); continue }
            out.append(UInt8(ascii: ","))
            JSONValue.writeString(name, to: &out)
            out.append(UInt8(ascii: ":"))
            given.write(to: &out)
            if name == "steps", let count = given.intValue, count > 0 { steps[node.id] = count }
        }
        // Output nodes never answer from InvokeAI's cache: a cached result hands out the image an
        // earlier run made, and the two runs would then share (and could delete) one image.
        // Each run's outputs are its own; the nodes feeding them still use the cache.
        let isOutput = node.template!.producesImages && !node.isIntermediate
        out.append(node.useCache && !isOutput ? #","use_cache":true"# : #","use_cache":false"#)
        out.append(node.isIntermediate ? #","is_intermediate":true}"# : #","is_intermediate":false}"#)
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
    func batchData(_ overrides: [String: [String: JSONValue]]) -> [JSONValue] {
        var data: [JSONValue] = []
        var groups: [String: [JSONValue]] = [:]
        var groupOrder: [String] = []
        for (position, node) in nodes.enumerated() where node.isBatch {
            func value(_ name: String) -> JSONValue? {
                overrides[node.id]?[name] ?? node.field(name)?.value.map(document.value(at:))
            }
            let listNames = ["images", "strings", "integers", "floats", "items"]
            guard let items = listNames.lazy.compactMap(value).first(where: { $0.arrayValue != nil }) else { continue }
            let group = value("batch_group_id")?.stringValue ?? "None"
            let handle = node.type == "image_batch" ? "image" : "value"
            let entries: [JSONValue] = edges.compactMap { edge in
                guard edge.sourceNode == position, let source = edge.sourceHandle,
                    document.string(at: source, equals: handle),
                    let target = edge.targetHandle
                else { return nil }
                return [
                    "node_path": .string(document.string(at: edge.target)!),
                    "field_name": .string(document.string(at: target)!), "items": items,
                ]
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

private extension [UInt8] {
    /// Appends a literal's UTF-8 in one copy.
    mutating func append(_ literal: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }
}
