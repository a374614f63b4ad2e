/// One invocation type of InvokeAI (a node type): its inputs, and whether it makes images.
public struct InvocationTemplate: Sendable {
    public var type: String
    public var title: String
    public var version: String
    public var inputs: [String: FieldTemplate]
    /// Input names in schema order.
    public var fieldOrder: [String]
    /// Its output has an image (`image`) or images (`images`).
    public var producesImages: Bool

    public init(type: String, title: String = "", version: String = "1.0.0", inputs: [FieldTemplate], producesImages: Bool = false) {
        self.type = type
        self.title = title.isEmpty ? type : title
        self.version = version
        self.inputs = Dictionary(inputs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.fieldOrder = inputs.map(\.name)
        self.producesImages = producesImages
    }

    /// Batch and generator nodes exist for the editor only: they become `batch.data`, not graph nodes.
    public var isExecutable: Bool { !Self.isBatch(type) && !Self.isGenerator(type) }

    static func isBatch(_ type: String) -> Bool { ["image_batch", "string_batch", "integer_batch", "float_batch"].contains(type) }
    static func isGenerator(_ type: String) -> Bool { type.hasSuffix("_generator") }
}
