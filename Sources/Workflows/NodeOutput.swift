import JSONValue

/// What one source node of a finished run produced.
public struct NodeOutput: Sendable, Equatable {
    public let nodeID: String
    public let nodeType: String
    /// A workflow output: not intermediate, makes images.
    public let isOutput: Bool
    public let boardInputIndex: Int?
    public let images: [OutputImage]
}
