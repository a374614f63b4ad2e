import JSONValue

/// The JSON Schema of one input, as a caller may send it.
enum InputSchema {
    /// `component` is how the GUI shows the field (`textarea` for long text); it travels as
    /// `x-ui-component` so a generated form can do the same.
    static func make(_ field: FieldTemplate, label: String, value: JSONValue?, component: String? = nil) -> JSONValue {
        var schema = field.valueSchema
        if field.kind == .string, let component, component != "input" { schema["x-ui-component"] = .string(component) }
        schema["title"] = .string(label)
        if !field.description.isEmpty { schema["description"] = .string(field.description) }
        if let current = value ?? field.defaultValue { schema["default"] = current }
        return .object(schema)
    }

    /// The schema of a kind of value, with the field's limits (none for a collection's items).
    static func shape(
        _ kind: FieldKind, minimum: Double? = nil, maximum: Double? = nil, exclusiveMinimum: Double? = nil,
        exclusiveMaximum: Double? = nil, multipleOf: Double? = nil, minLength: Int? = nil, maxLength: Int? = nil,
        minItems: Int? = nil, maxItems: Int? = nil, modelBases: [String] = [], modelTypes: [String] = []
    ) -> JSONObject {
        var schema: JSONObject
        switch kind {
        case .integer, .float:
            schema = ["type": .string(kind == .integer ? "integer" : "number")]
            if let v = minimum { schema["minimum"] = number(v, kind) }
            if let v = maximum { schema["maximum"] = number(v, kind) }
            if let v = exclusiveMinimum { schema["exclusiveMinimum"] = number(v, kind) }
            if let v = exclusiveMaximum { schema["exclusiveMaximum"] = number(v, kind) }
            if let v = multipleOf { schema["multipleOf"] = number(v, kind) }
        case .string:
            schema = ["type": "string"]
            if let v = minLength { schema["minLength"] = .int(v) }
            if let v = maxLength { schema["maxLength"] = .int(v) }
        case .boolean:
            schema = ["type": "boolean"]
        case .enumeration(let values):
            schema = ["type": "string", "enum": .array(values.map { .string($0) })]
        case .image:
            schema = [
                "description":
                    "an InvokeAI image name, {\"image_name\": ...}, a data: URL or base64 image bytes (uploaded by the gateway)",
                "oneOf": [
                    ["type": "string"],
                    ["type": "object", "required": ["image_name"], "properties": ["image_name": ["type": "string"]]],
                ],
            ]
        case .board:
            schema = [
                "description": "\"none\", \"auto\" (no board), a board id, or {\"board_id\": ...}",
                "oneOf": [
                    ["type": "string"],
                    ["type": "object", "required": ["board_id"], "properties": ["board_id": ["type": "string"]]],
                ],
            ]
        case .model:
            schema = [
                "description": "an installed model's name or key, or {\"key\", \"hash\", \"name\", \"base\", \"type\"}",
                "oneOf": [
                    ["type": "string"],
                    [
                        "type": "object", "required": ["key"],
                        "properties": [
                            "key": ["type": "string"], "hash": ["type": "string"], "name": ["type": "string"],
                            "base": ["type": "string"], "type": ["type": "string"],
                        ],
                    ],
                ],
            ]
            if !modelBases.isEmpty { schema["x-model-base"] = .array(modelBases.map { .string($0) }) }
            if !modelTypes.isEmpty { schema["x-model-type"] = .array(modelTypes.map { .string($0) }) }
        case .color:
            let channel: JSONValue = ["type": "integer", "minimum": 0, "maximum": 255]
            schema = [
                "oneOf": [
                    ["type": "string", "pattern": "^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$"],
                    [
                        "type": "object", "required": ["r", "g", "b"],
                        "properties": ["r": channel, "g": channel, "b": channel, "a": channel],
                    ],
                ]
            ]
        case .collection(let element):
            schema = ["type": "array", "items": .object(shape(element))]
            if let v = minItems { schema["minItems"] = .int(v) }
            if let v = maxItems { schema["maxItems"] = .int(v) }
        case .other(let name):
            schema = ["description": .string("a value of InvokeAI type \(name), passed through as given")]
        }
        return schema
    }

    private static func number(_ value: Double, _ kind: FieldKind) -> JSONValue {
        kind == .integer && value == value.rounded() && abs(value) < 9e15 ? .int(Int(value)) : .double(value)
    }
}

extension Workflow {
    /// The JSON Schema of a run request for this workflow: inputs keyed by index, system name or
    /// unique label, and every other member the run endpoint reads; no other member (the gateway
    /// refuses unknown ones with 422).
    public var runRequestSchema: JSONValue {
        var properties: JSONObject = [:]
        let schemas = inputs.map(\.schema)
        for input in inputs {
            properties[String(input.index)] = schemas[input.index]
            properties[input.systemName] = schemas[input.index]
        }
        for (label, input) in uniqueLabels where properties[label] == nil { properties[label] = schemas[input.index] }
        let required = inputs.filter(\.required)
        return [
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": .string("Run request for \(name.isEmpty ? "a workflow" : name)"),
            "type": "object",
            "additionalProperties": false,
            "properties": [
                "inputs": [
                    "type": "object", "properties": .object(properties), "additionalProperties": false,
                    "description": .string(
                        required.isEmpty
                            ? "Each input by index, system name or unique label."
                            : "Each input by index, system name or unique label. Required: \(required.map { "\($0.index) (\($0.systemName))" }.joined(separator: ", "))."
                    ),
                ],
                "priority": ["type": "boolean", "description": "put the run at the front of InvokeAI's queue"],
                "cleanup": [
                    "enum": ["none", "outputs"], "description": "\"outputs\": delete the output images once fetched",
                ],
                "board": [
                    "description":
                        "where every output node saves its images: \"none\", \"auto\", a board id or {\"board_id\": ...}",
                    "oneOf": [
                        ["type": "string"],
                        [
                            "type": "object", "required": ["board_id"],
                            "properties": ["board_id": ["type": "string"]],
                        ],
                    ],
                ],
                "models": [
                    "enum": ["stored", "any"],
                    "description":
                        "\"stored\" (default): a stored model reference resolves by key, else by name, base and type; \"any\": else any installed model of the same base and type",
                ],
            ],
        ]
    }
}
