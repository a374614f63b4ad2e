import JSONValue

extension Workflow {
    /// What each source node of a finished queue item produced (a node inside an iteration ran
    /// several times: all its images), found through `session.source_prepared_mapping`.
    public func mapOutputs(queueItem: JSONValue) -> [NodeOutput] {
        guard let session = queueItem["session"], let mapping = session["source_prepared_mapping"]?.objectValue else {
            return []
        }
        let byID = Dictionary(nodes.elements.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let outputIDs = Set(outputs.map(\.nodeID))
        return mapping.keys.sorted().compactMap { nodeID in
            var images: [OutputImage] = []
            for prepared in mapping[nodeID]?.arrayValue ?? [] {
                guard let id = prepared.stringValue, let result = session["results"]?[id] else { continue }
                let list = (result["image"].map { [$0] } ?? []) + (result["images"]?.arrayValue ?? [])
                for image in list {
                    guard let name = image["image_name"]?.stringValue else { continue }
                    images.append(
                        OutputImage(name: name, width: result["width"]?.intValue, height: result["height"]?.intValue))
                }
            }
            let node = byID[nodeID]
            guard node != nil || !images.isEmpty else { return nil }
            return NodeOutput(
                nodeID: nodeID, nodeType: node?.type ?? "", isOutput: outputIDs.contains(nodeID) && !images.isEmpty,
                boardInputIndex: outputs.first { $0.nodeID == nodeID }?.boardInputIndex, images: images)
        }
    }

    /// How `new`'s inputs differ from `old`'s, by system name.
    public static func drift(from old: Workflow, to new: Workflow) -> DriftReport {
        let oldIndex = Dictionary(old.inputs.map { ($0.systemName, $0.index) }, uniquingKeysWith: { first, _ in first })
        let newIndex = Dictionary(new.inputs.map { ($0.systemName, $0.index) }, uniquingKeysWith: { first, _ in first })
        var unchanged: [String] = [], moved: [DriftReport.Move] = []
        for input in old.inputs {
            guard let now = newIndex[input.systemName] else { continue }
            if now == input.index {
                unchanged.append(input.systemName)
            } else {
                moved.append(.init(systemName: input.systemName, from: input.index, to: now))
            }
        }
        return DriftReport(
            unchanged: unchanged, moved: moved,
            missing: old.inputs.map(\.systemName).filter { newIndex[$0] == nil },
            added: new.inputs.map(\.systemName).filter { oldIndex[$0] == nil })
    }

    /// The JSON Schema of a run request for this workflow: inputs keyed by index, system name or
    /// unique label.
    public var runRequestSchema: JSONValue {
        var properties: JSONObject = [:]
        let schemas = inputs.map(\.schema)
        for input in inputs {
            properties[String(input.index)] = schemas[input.index]
            properties[input.systemName] = schemas[input.index]
        }
        for (label, input) in uniqueLabels where properties[label] == nil { properties[label] = schemas[input.index] }
        let required = inputs.filter(\.required)
        return [
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": .string("Run request for \(name.isEmpty ? "a workflow" : name)"),
            "type": "object",
            "required": ["inputs"],
            "properties": [
                "inputs": [
                    "type": "object", "properties": .object(properties), "additionalProperties": false,
                    "description": .string(
                        required.isEmpty
                            ? "Each input by index, system name or unique label."
                            : "Each input by index, system name or unique label. Required: \(required.map { "\($0.index) (\($0.systemName))" }.joined(separator: ", "))."
                    ),
                ],
                "priority": ["type": "boolean", "description": "put the run at the front of InvokeAI's queue"],
                "cleanup": [
                    "enum": ["none", "outputs"], "description": "\"outputs\": delete the output images once fetched",
                ],
            ],
        ]
    }
}
