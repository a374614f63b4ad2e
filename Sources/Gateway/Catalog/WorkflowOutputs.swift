import InvokeAI
import JSONValue
import Workflows

/// A finished run's outputs as the API shows them: the images of the workflow's output nodes
/// (non-intermediate nodes that make images), with gateway URLs and the form index of the node's
/// board input when it has one.
enum WorkflowOutputs {
    static func map(_ workflow: Workflow, items: [InvokeAIQueueItem]) -> JSONValue {
        var nodes: [String: (output: NodeOutput, images: [OutputImage])] = [:]
        for item in items {
            for output in workflow.mapOutputs(queueItem: item.raw) where output.isOutput {
                nodes[output.nodeID, default: (output, [])].images += output.images
            }
        }
        return .array(
            nodes.keys.sorted().map { id in
                let (output, images) = nodes[id]!
                return [
                    "node": .string(output.nodeID),
                    "node_type": .string(output.nodeType),
                    "board_input": output.boardInputIndex.map { .int($0) } ?? .null,
                    "images": .array(
                        images.map { image in
                            [
                                "name": .string(image.name),
                                "width": image.width.map { .int($0) } ?? .null,
                                "height": image.height.map { .int($0) } ?? .null,
                                "url": .string("/v1/images/\(image.name)"),
                                "thumbnail_url": .string("/v1/images/\(image.name)/thumbnail"),
                            ]
                        }),
                ]
            })
    }
}
