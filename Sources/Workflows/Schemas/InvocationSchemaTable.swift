import JSONValue

/// Every invocation InvokeAI knows (custom nodes included), parsed once from its `/openapi.json`.
/// Handed to the engine whole, so tests can build one by hand. A read-only class: handing it to
/// each node being read costs one reference, not one per table it holds.
public final class InvocationSchemaTable: Sendable {
    private let templates: [String: InvocationTemplate]
    /// The same templates, and their types to find one by a document's bytes.
    private let list: [InvocationTemplate]
    private let names: JSONNameList

    public init(templates: [String: InvocationTemplate]) {
        self.templates = templates
        let pairs = Array(templates)
        list = pairs.map(\.value)
        names = JSONNameList(pairs.map(\.key))
    }

    public convenience init(openAPI: JSONValue) {
        let schemas = openAPI["components"]?["schemas"]?.objectValue ?? [:]
        var templates: [String: InvocationTemplate] = [:]
        for (_, schema) in schemas where schema["class"]?.stringValue == "invocation" {
            guard let properties = schema["properties"]?.objectValue,
                let type = properties["type"]?["default"]?.stringValue ?? properties["type"]?["const"]?.stringValue
            else { continue }
            var fields: [FieldTemplate] = []
            for (name, property) in properties.sorted(by: { $0.key < $1.key }) {
                let fieldKind = property["field_kind"]?.stringValue
                guard fieldKind == "input" || fieldKind == "internal" else { continue } // id, type, use_cache...
                fields.append(Self.field(name, property, schemas: schemas))
            }
            let output = schema["output"]?["$ref"]?.stringValue.flatMap { schemas[Self.refName($0)] }
            let outputProperties = output?["properties"]?.objectValue ?? [:]
            let producesImages = ["image", "images"].contains { name in
                guard let property = outputProperties[name] else { return false }
                let kind = Self.kind(of: property, schemas: schemas)
                return kind == .image || kind == .collection(.image)
            }
            templates[type] = InvocationTemplate(
                type: type, title: schema["title"]?.stringValue ?? type,
                version: schema["version"]?.stringValue ?? "", inputs: fields,
                producesImages: producesImages)
        }
        self.init(templates: templates)
    }

    public subscript(type: String) -> InvocationTemplate? { templates[type] }

    /// The template of the type named by the string at `index` in `document`.
    func template(forStringAt index: Int, in document: JSONDocument) -> InvocationTemplate? {
        names.position(ofStringAt: index, in: document).map { list[$0] }
    }
    public var types: [String] { templates.keys.sorted() }

    static func refName(_ ref: String) -> String { String(ref.split(separator: "/").last ?? "") }

    /// `anyOf: [X, null]` → X.
    static func unwrapOptional(_ schema: JSONValue) -> JSONValue {
        if let options = schema["anyOf"]?.arrayValue {
            let nonNull = options.filter { $0["type"]?.stringValue != "null" }
            if nonNull.count == 1 { return nonNull[0] }
        }
        if let all = schema["allOf"]?.arrayValue, all.count == 1 { return all[0] }
        return schema
    }

    static func kind(of property: JSONValue, schemas: JSONObject) -> FieldKind {
        let schema = unwrapOptional(property)
        if let ref = schema["$ref"]?.stringValue {
            switch refName(ref) {
            case "ImageField": return .image
            case "BoardField": return .board
            case "ModelIdentifierField": return .model
            case "ColorField": return .color
            case let name:
                // A string enum behind a ref (e.g. a Literal type) is still an enum.
                if let values = schemas[name]?["enum"]?.arrayValue?.compactMap(\.stringValue) {
                    return .enumeration(values)
                }
                return .other(name)
            }
        }
        if let values = schema["enum"]?.arrayValue?.compactMap(\.stringValue), !values.isEmpty {
            return .enumeration(values)
        }
        switch schema["type"]?.stringValue {
        case "integer": return .integer
        case "number": return .float
        case "string": return .string
        case "boolean": return .boolean
        case "array": return .collection(schema["items"].map { kind(of: $0, schemas: schemas) } ?? .other("any"))
        default:
            // `anyOf` of several kinds (e.g. a float or a list of floats): take the first usable one.
            if let options = schema["anyOf"]?.arrayValue {
                for option in options where option["type"]?.stringValue != "null" {
                    let kind = kind(of: option, schemas: schemas)
                    if case .other = kind { continue }
                    return kind
                }
            }
            return .other(schema["title"]?.stringValue ?? "any")
        }
    }

    private static func field(_ name: String, _ property: JSONValue, schemas: JSONObject) -> FieldTemplate {
        let inner = unwrapOptional(property)
        func number(_ key: String) -> Double? { property[key]?.doubleValue ?? inner[key]?.doubleValue }
        func integer(_ key: String) -> Int? { property[key]?.intValue ?? inner[key]?.intValue }
        return FieldTemplate(
            name: name,
            title: property["title"]?.stringValue ?? "",
            description: property["description"]?.stringValue ?? "",
            kind: kind(of: property, schemas: schemas),
            defaultValue: property["default"].flatMap { $0.isNull ? nil : $0 },
            required: property["orig_required"]?.boolValue ?? false,
            input: property["input"]?.stringValue ?? "any",
            isInternal: property["field_kind"]?.stringValue == "internal",
            minimum: number("minimum"), maximum: number("maximum"),
            exclusiveMinimum: number("exclusiveMinimum"), exclusiveMaximum: number("exclusiveMaximum"),
            multipleOf: number("multipleOf"), minLength: integer("minLength"), maxLength: integer("maxLength"),
            minItems: integer("minItems"), maxItems: integer("maxItems"),
            uiType: property["ui_type"]?.stringValue,
            modelBases: property["ui_model_base"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            modelTypes: property["ui_model_type"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            jsonSchema: property)
    }
}
