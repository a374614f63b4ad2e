import JSONValue

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
    /// Ordinals of the inputs it cannot run without, in schema order.
    let requiredOrdinals: [Int]
    /// Ordinals of its model fields (`ModelIdentifierField`): a stored one names a model that
    /// must be installed.
    let modelOrdinals: [Int]
    /// The ordered inputs' names: a stored field or an edge's handle is matched by its bytes.
    let inputNames: JSONNameList
    /// A batch node (`isBatch(type)`) or a generator (`isGenerator(type)`), worked out once.
    let isBatchNode: Bool
    let isGeneratorNode: Bool
    /// The ordinal of `steps` (denoising steps, to count progress by), if it has one.
    let stepsOrdinal: Int?

    public init(
        type: String, title: String = "", version: String = "1.0.0", inputs: [FieldTemplate],
        producesImages: Bool = false
    ) {
        self.type = type
        self.title = title.isEmpty ? type : title
        self.version = version
        self.inputs = Dictionary(inputs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var seen = Set<String>()
        let ordered = inputs.filter { seen.insert($0.name).inserted }
        orderedInputs = ordered
        self.producesImages = producesImages
        requiredOrdinals = ordered.indices.filter { ordered[$0].required }
        modelOrdinals = ordered.indices.filter { ordered[$0].kind == .model }
        inputNames = JSONNameList(ordered.map(\.name))
        stepsOrdinal = ordered.firstIndex { $0.name == "steps" }
        isBatchNode = Self.isBatch(type)
        isGeneratorNode = Self.isGenerator(type)
    }

    /// The position in `orderedInputs` of the input called `name`.
    func ordinal(of name: String) -> Int? {
        var name = name
        return name.withUTF8(inputNames.position(of:))
    }

    /// Batch and generator nodes exist for the editor only: they become `batch.data`, not graph nodes.
    public var isExecutable: Bool { !isBatchNode && !isGeneratorNode }

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
