import JSONValue

@testable import Workflows

/// A small hand-written schema table and workflow builders for the engine's unit tests.
enum Fixtures {
    static let schemas = InvocationSchemaTable(templates: [
        "blank_image": InvocationTemplate(
            type: "blank_image", title: "Blank Image",
            inputs: [
                FieldTemplate(name: "width", title: "Width", kind: .integer, defaultValue: 512, exclusiveMinimum: 0),
                FieldTemplate(
                    name: "height", title: "Height", kind: .integer, defaultValue: 512, exclusiveMinimum: 0,
                    multipleOf: 8),
                FieldTemplate(name: "mode", title: "Mode", kind: .enumeration(["RGB", "RGBA"]), defaultValue: "RGB"),
                FieldTemplate(name: "color", title: "Color", kind: .color),
                FieldTemplate(name: "board", kind: .board, isInternal: true),
            ], producesImages: true),
        "img_blur": InvocationTemplate(
            type: "img_blur", title: "Blur Image",
            inputs: [
                FieldTemplate(name: "image", title: "Image", kind: .image, required: true),
                FieldTemplate(
                    name: "radius", title: "Radius", kind: .float, defaultValue: 8.0, minimum: 0, maximum: 100),
                FieldTemplate(name: "board", kind: .board, isInternal: true),
            ], producesImages: true),
        "save_image": InvocationTemplate(
            type: "save_image", title: "Save Image",
            inputs: [
                FieldTemplate(name: "image", title: "Image", kind: .image, required: true),
                FieldTemplate(name: "board", kind: .board, isInternal: true),
            ], producesImages: true),
        "string": InvocationTemplate(
            type: "string", title: "String Primitive",
            inputs: [
                FieldTemplate(name: "value", title: "Value", kind: .string, maxLength: 10)
            ]),
        "flags": InvocationTemplate(
            type: "flags", title: "Flags",
            inputs: [
                FieldTemplate(name: "on", title: "On", kind: .boolean),
                FieldTemplate(name: "sizes", title: "Sizes", kind: .collection(.integer)),
            ]),
        "main_model_loader": InvocationTemplate(
            type: "main_model_loader", title: "Main Model",
            inputs: [
                FieldTemplate(
                    name: "model", title: "Model", kind: .model, required: true, modelBases: ["sd-1", "sd-2"],
                    modelTypes: ["main"])
            ]),
        "model_identifier": InvocationTemplate(
            type: "model_identifier", title: "Any Model",
            inputs: [
                FieldTemplate(name: "model", title: "Model", kind: .model)
            ]),
        "string_generator": InvocationTemplate(
            type: "string_generator", title: "String Generator",
            inputs: [
                FieldTemplate(name: "generator", title: "Generator", kind: .other("StringGeneratorField"))
            ]),
        "image_batch": InvocationTemplate(
            type: "image_batch", title: "Image Batch",
            inputs: [
                FieldTemplate(name: "images", title: "Images", kind: .collection(.image)),
                FieldTemplate(
                    name: "batch_group_id", title: "Batch Group", kind: .enumeration(["None", "Group 1"]),
                    defaultValue: "None"),
            ], producesImages: true),
        "string_batch": InvocationTemplate(
            type: "string_batch", title: "String Batch",
            inputs: [
                FieldTemplate(name: "strings", title: "Strings", kind: .collection(.string)),
                FieldTemplate(
                    name: "batch_group_id", title: "Batch Group", kind: .enumeration(["None", "Group 1"]),
                    defaultValue: "None"),
            ]),
    ])

    static let models = [
        InstalledModel(key: "k-tiny", hash: "h1", name: "tiny-sd15", base: "sd-1", type: "main"),
        InstalledModel(key: "k-xl", hash: "h2", name: "big-xl", base: "sdxl", type: "main"),
    ]

    static func node(
        _ id: String, _ type: String, _ inputs: [String: JSONValue] = [:], labels: [String: String] = [:],
        intermediate: Bool = true, kind: String = "invocation"
    ) -> JSONValue {
        var fields: JSONObject = [:]
        for (name, value) in inputs {
            fields[name] = ["name": .string(name), "label": .string(labels[name] ?? ""), "value": value]
        }
        for (name, label) in labels where inputs[name] == nil {
            fields[name] = ["name": .string(name), "label": .string(label)]
        }
        return [
            "id": .string(id), "type": .string(kind),
            "data": [
                "id": .string(id), "type": .string(type), "label": "", "inputs": .object(fields),
                "isIntermediate": .bool(intermediate), "useCache": true, "version": "1.0.0",
            ],
        ]
    }

    static func edge(
        _ source: String, _ sourceHandle: String, _ target: String, _ targetHandle: String, type: String = "default"
    ) -> JSONValue {
        [
            "id": .string("\(source)-\(target)-\(targetHandle)-\(type)"), "type": .string(type),
            "source": .string(source), "target": .string(target),
            "sourceHandle": .string(sourceHandle), "targetHandle": .string(targetHandle),
        ]
    }

    static func field(_ id: String, _ node: String, _ name: String) -> (String, JSONValue) {
        (
            id,
            [
                "id": .string(id), "type": "node-field",
                "data": ["fieldIdentifier": ["nodeId": .string(node), "fieldName": .string(name)]],
            ]
        )
    }

    static func container(_ id: String, _ children: [String]) -> (String, JSONValue) {
        (
            id,
            [
                "id": .string(id), "type": "container",
                "data": ["layout": "column", "children": .array(children.map { .string($0) })],
            ]
        )
    }

    static func workflow(
        nodes: [JSONValue], edges: [JSONValue] = [], form: [(String, JSONValue)]? = nil, root: String = "",
        exposed: [(String, String)] = []
    ) -> JSONValue {
        var json: JSONObject = [
            "id": "wf-1", "name": "Test flow", "description": "for tests", "meta": ["version": "3.0.0"],
            "nodes": .array(nodes), "edges": .array(edges),
            "exposedFields": .array(exposed.map { ["nodeId": .string($0.0), "fieldName": .string($0.1)] }),
        ]
        if let form {
            json["form"] = [
                "elements": .object(JSONObject(form.map { (key: $0.0, value: $0.1) })), "rootElementId": .string(root),
            ]
        }
        return .object(json)
    }

    /// blank → blur → save, with a form of width, height, color, radius and board.
    static var blankBlurSave: JSONValue {
        workflow(
            nodes: [
                node("b", "blank_image", ["width": 64, "height": 48], labels: ["color": "Colour"]),
                node("r", "img_blur", ["radius": 2.0]),
                node("s", "save_image", ["board": "auto"], labels: ["board": "Output board"], intermediate: false),
            ],
            edges: [edge("b", "image", "r", "image"), edge("r", "image", "s", "image")],
            form: [
                container("root-x", ["h1", "c1", "f-radius", "f-board"]),
                ("h1", ["id": "h1", "type": "heading", "data": ["content": "Hi"]]),
                container("c1", ["f-width", "t1", "c2"]),
                ("t1", ["id": "t1", "type": "text", "data": ["content": "text"]]),
                container("c2", ["f-height", "d1", "f-color"]), ("d1", ["id": "d1", "type": "divider"]),
                field("f-width", "b", "width"), field("f-height", "b", "height"), field("f-color", "b", "color"),
                field("f-radius", "r", "radius"), field("f-board", "s", "board"),
            ],
            root: "root-x")
    }
}
