import JSONValue

/// What one source node of a finished run produced.
public struct NodeOutput: Sendable, Equatable {
    public let nodeID: String
    public let nodeType: String
    /// A workflow output: not intermediate, makes images.
    public let isOutput: Bool
    public let boardInputIndex: Int?
    public let images: [OutputImage]

    public var json: JSONValue {
        ["node": .string(nodeID), "node_type": .string(nodeType), "is_output": .bool(isOutput),
         "board_input": boardInputIndex.map { .int($0) } ?? .null,
         "images": .array(images.map { ["name": .string($0.name), "width": $0.width.map { .int($0) } ?? .null, "height": $0.height.map { .int($0) } ?? .null] })]
    }
}
