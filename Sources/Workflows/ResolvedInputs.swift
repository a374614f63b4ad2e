import JSONValue

/// Validated input values, by system name, ready for the graph.
public struct ResolvedInputs: Sendable {
    public var values: [String: JSONValue]
    /// Image inputs given inline: the gateway uploads them, then calls `setImage`.
    public var inlineImages: [String: InlineImage]

    public init(values: [String: JSONValue] = [:], inlineImages: [String: InlineImage] = [:]) {
        self.values = values
        self.inlineImages = inlineImages
    }

    public mutating func setImage(_ imageName: String, for systemName: String) {
        values[systemName] = ["image_name": .string(imageName)]
        inlineImages[systemName] = nil
    }
}
