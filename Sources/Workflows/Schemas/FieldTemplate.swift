import JSONValue

/// One input field of an invocation, from InvokeAI's OpenAPI schema. A class: read-only, and
/// handed around per node and per field without copying its many members.
public final class FieldTemplate: Sendable {
    public let name: String
    public let title: String
    public let description: String
    public let kind: FieldKind
    public let defaultValue: JSONValue?
    /// `orig_required`: the node needs a value (from the workflow, an input or an edge).
    public let required: Bool
    /// `any`, `connection` or `direct`.
    public let input: String
    /// `field_kind` `internal` (board, metadata) rather than a user input.
    public let isInternal: Bool
    public let minimum: Double?
    public let maximum: Double?
    public let exclusiveMinimum: Double?
    public let exclusiveMaximum: Double?
    public let multipleOf: Double?
    public let minLength: Int?
    public let maxLength: Int?
    public let minItems: Int?
    public let maxItems: Int?
    public let uiType: String?
    /// Model filters (`ui_model_base`, `ui_model_type`), empty when any model fits.
    public let modelBases: [String]
    public let modelTypes: [String]
    /// The field's schema as InvokeAI describes it.
    public let jsonSchema: JSONValue
    /// A board (`kind == .board`), known without comparing kinds per stored field.
    let isBoard: Bool
    /// How the GUI shows it by default (`ui_component`, `textarea` for a long text), if it says.
    let uiComponent: String?
    /// The JSON Schema of a value a caller may send for it (type, bounds...), made once.
    let valueSchema: JSONObject

    public init(
        name: String, title: String = "", description: String = "", kind: FieldKind, defaultValue: JSONValue? = nil,
        required: Bool = false, input: String = "any", isInternal: Bool = false, minimum: Double? = nil,
        maximum: Double? = nil,
        exclusiveMinimum: Double? = nil, exclusiveMaximum: Double? = nil, multipleOf: Double? = nil,
        minLength: Int? = nil, maxLength: Int? = nil, minItems: Int? = nil, maxItems: Int? = nil, uiType: String? = nil,
        modelBases: [String] = [], modelTypes: [String] = [], jsonSchema: JSONValue = [:]
    ) {
        self.name = name
        self.title = title.isEmpty ? name : title
        self.description = description
        self.kind = kind
        self.defaultValue = defaultValue
        self.required = required
        self.input = input
        self.isInternal = isInternal
        self.minimum = minimum
        self.maximum = maximum
        self.exclusiveMinimum = exclusiveMinimum
        self.exclusiveMaximum = exclusiveMaximum
        self.multipleOf = multipleOf
        self.minLength = minLength
        self.maxLength = maxLength
        self.minItems = minItems
        self.maxItems = maxItems
        self.uiType = uiType
        self.modelBases = modelBases
        self.modelTypes = modelTypes
        self.jsonSchema = jsonSchema
        uiComponent = jsonSchema["ui_component"]?.stringValue
        isBoard = kind == .board
        valueSchema = InputSchema.shape(
            kind, minimum: minimum, maximum: maximum, exclusiveMinimum: exclusiveMinimum,
            exclusiveMaximum: exclusiveMaximum, multipleOf: multipleOf, minLength: minLength,
            maxLength: maxLength, minItems: minItems, maxItems: maxItems,
            modelBases: modelBases, modelTypes: modelTypes)
    }
}
