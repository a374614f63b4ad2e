/// One invocation type of InvokeAI (a node type): its inputs, and whether it makes images.
public final class InvocationTemplate: Sendable {
    public let type: String
    public let title: String
    public let version: String
    public let inputs: [String: FieldTemplate]
    /// The inputs in schema order, each name once.
    let orderedInputs: [FieldTemplate]
    /// Its output has an image (`image`) or images (`images`).
    public let producesImages: Bool
    /// Inputs it cannot run without, in schema order.
    let requiredFields: [String]

    public init(type: String, title: String = "", version: String = "1.0.0", inputs: [FieldTemplate], producesImages: Bool = false) {
        self.type = type
        self.title = title.isEmpty ? type : title
        self.version = version
        self.inputs = Dictionary(inputs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var seen = Set<String>()
        orderedInputs = inputs.filter { seen.insert($0.name).inserted }
        self.producesImages = producesImages
        requiredFields = orderedInputs.filter(\.required).map(\.name)
    }

    /// Batch and generator nodes exist for the editor only: they become `batch.data`, not graph nodes.
    public var isExecutable: Bool { !Self.isBatch(type) && !Self.isGenerator(type) }

    static func isBatch(_ type: String) -> Bool {
        switch type {
        case "image_batch", "string_batch", "integer_batch", "float_batch": true
        default: false
        }
    }

    static func isGenerator(_ type: String) -> Bool {
        let suffix = "_generator".utf8
        return type.utf8.count >= suffix.count && type.utf8.suffix(suffix.count).elementsEqual(suffix)
    }
}
