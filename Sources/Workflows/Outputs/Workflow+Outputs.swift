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
}

/// A node whose images are the workflow's outputs (not intermediate, makes images).
public struct WorkflowOutput: Sendable, Equatable {
    public let nodeID: String
    public let nodeType: String
    public let label: String
    /// The input index of the node's board field, when the form has it.
    public let boardInputIndex: Int?
    /// The node's board field, as a run's value for it is kept (`RepeatedIDs`): a run's `board`
    /// applies to it. Nil when the node has none.
    let boardField: NodeField?
}

/// What one source node of a finished run produced.
public struct NodeOutput: Sendable, Equatable {
    public let nodeID: String
    public let nodeType: String
    /// A workflow output: not intermediate, makes images.
    public let isOutput: Bool
    public let boardInputIndex: Int?
    public let images: [OutputImage]
}

/// An image a node produced.
public struct OutputImage: Sendable, Equatable {
    public let name: String
    public let width: Int?
    public let height: Int?
}
