import JSONValue

/// One input field of an invocation, from InvokeAI's OpenAPI schema.
public struct FieldTemplate: Sendable {
    public var name: String
    public var title: String
    public var description: String
    public var kind: FieldKind
    public var defaultValue: JSONValue?
    /// `orig_required`: the node needs a value (from the workflow, an input or an edge).
    public var required: Bool
    /// `any`, `connection` or `direct`.
    public var input: String
    /// `field_kind` `internal` (board, metadata) rather than a user input.
    public var isInternal: Bool
    public var minimum: Double?
    public var maximum: Double?
    public var exclusiveMinimum: Double?
    public var exclusiveMaximum: Double?
    public var multipleOf: Double?
    public var minLength: Int?
    public var maxLength: Int?
    public var minItems: Int?
    public var maxItems: Int?
    public var uiType: String?
    /// Model filters (`ui_model_base`, `ui_model_type`), empty when any model fits.
    public var modelBases: [String]
    public var modelTypes: [String]
    /// The field's schema as InvokeAI describes it.
    public var jsonSchema: JSONValue

    public init(name: String, title: String = "", description: String = "", kind: FieldKind, defaultValue: JSONValue? = nil,
                required: Bool = false, input: String = "any", isInternal: Bool = false, minimum: Double? = nil, maximum: Double? = nil,
                exclusiveMinimum: Double? = nil, exclusiveMaximum: Double? = nil, multipleOf: Double? = nil,
                minLength: Int? = nil, maxLength: Int? = nil, minItems: Int? = nil, maxItems: Int? = nil, uiType: String? = nil,
                modelBases: [String] = [], modelTypes: [String] = [], jsonSchema: JSONValue = [:]) {
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
    }
}
