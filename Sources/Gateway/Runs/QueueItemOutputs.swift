import InvokeAI
import JSONValue

/// The images a finished run's queue items produced, per source node of the graph (a node that
/// ran several times inside an iteration contributes every image). Used when the workflow itself
/// is not at hand to say which nodes are outputs.
enum QueueItemOutputs {
    static func map(_ items: [InvokeAIQueueItem]) -> JSONValue {
        var imagesByNode: [String: [JSONValue]] = [:]
        for item in items {
            guard let mapping = item.raw["session"]?["source_prepared_mapping"]?.objectValue else { continue }
            for node in mapping.keys.sorted() {
                for result in item.results(forNode: node) {
                    let images = (result["images"]?.arrayValue ?? []) + (result["image"].map { [$0] } ?? [])
                    for image in images {
                        guard let name = image["image_name"]?.stringValue else { continue }
                        imagesByNode[node, default: []].append([
                            "name": .string(name),
                            "width": result["width"] ?? .null,
                            "height": result["height"] ?? .null,
                            "url": .string("/v1/images/\(name)"),
                            "thumbnail_url": .string("/v1/images/\(name)/thumbnail"),
                        ])
                    }
                }
            }
        }
        return .array(
            imagesByNode.keys.sorted().map { node in
                ["node": .string(node), "images": .array(imagesByNode[node]!)]
            })
    }
}
