import JSONValue
import Testing

@testable import Workflows

@Suite("Workflow parsing and inputs")
struct WorkflowParsingTests {
    @Test func formInputsAreIndexedDepthFirstFromTheRootWhateverItsName() throws {
        let workflow = try Workflow.parse(Fixtures.blankBlurSave, schemas: Fixtures.schemas)
        #expect(workflow.inputs.map(\.systemName) == ["b.width", "b.height", "b.color", "r.radius", "s.board"])
        #expect(workflow.inputs.map(\.index) == [0, 1, 2, 3, 4])
        // The form/field label, else the template's title.
        #expect(workflow.inputs.map(\.label) == ["Width", "Height", "Colour", "Radius", "Output board"])
        #expect(workflow.inputs[0].type == "integer")
        #expect(workflow.inputs[0].value == 64)
        #expect(workflow.inputs[0].schema["exclusiveMinimum"] == 0)
        #expect(workflow.warnings.isEmpty)
        #expect(workflow.outputs.map(\.nodeID) == ["s"])
        #expect(workflow.outputs.first?.boardInputIndex == 4)
    }

    /// A program switches on `kind`; `type` is display text ("list of integer").
    @Test func eachInputSaysItsMachineKindApartFromItsDisplayType() throws {
        let json = Fixtures.workflow(nodes: [Fixtures.node("f", "flags")], exposed: [("f", "sizes"), ("f", "on")])
        let workflow = try Workflow.parse(json, schemas: Fixtures.schemas)
        let sizes = try #require(workflow.inputs[0].template?.kind),
            on = try #require(workflow.inputs[1].template?.kind)
        #expect(workflow.inputs[0].type == "list of integer")
        #expect(sizes.machineName == "list" && sizes.elementKind?.machineName == "integer")
        #expect(on.machineName == "boolean" && on.elementKind == nil)
    }

    @Test func aStringShownAsATextareaSaysSoInItsSchema() throws {
        let schemas = InvocationSchemaTable(templates: [
            "prompt": InvocationTemplate(
                type: "prompt", title: "Prompt",
                inputs: [
                    FieldTemplate(
                        name: "text", title: "Text", kind: .string,
                        jsonSchema: ["type": "string", "ui_component": "textarea"]),
                    FieldTemplate(name: "style", title: "Style", kind: .string),
                    FieldTemplate(name: "note", title: "Note", kind: .string),
                ])
        ])
        func field(_ id: String, _ name: String, component: String) -> (String, JSONValue) {
            (
                id,
                [
                    "id": .string(id), "type": "node-field",
                    "data": [
                        "fieldIdentifier": ["nodeId": "p", "fieldName": .string(name)],
                        "settings": ["type": "string-field-config", "component": .string(component)],
                    ],
                ]
            )
        }
        let inputField = field("f-text", "text", component: "input")
        let areaField = field("f-style", "style", component: "textarea")
        let json = Fixtures.workflow(
            nodes: [Fixtures.node("p", "prompt")],
            form: [
                Fixtures.container("root", ["f-text", "f-style", "f-note"]), inputField, areaField,
                Fixtures.field("f-note", "p", "note"),
            ],
            root: "root")
        let workflow = try Workflow.parse(json, schemas: schemas)
        // The form's own setting wins; without one, the invocation schema's ui_component.
        #expect(workflow.inputs.map { $0.schema["x-ui-component"]?.stringValue } == [nil, "textarea", nil])
        let legacy = try Workflow.parse(
            Fixtures.workflow(nodes: [Fixtures.node("p", "prompt")], exposed: [("p", "text")]), schemas: schemas)
        #expect(legacy.inputs.first?.schema["x-ui-component"] == "textarea")
    }

    @Test func aFormOfHundredsOfElementsKeepsItsDepthFirstOrder() throws {
        // Elements are found through an index of their ids' bytes, in any number.
        var form: [(String, JSONValue)] = []
        var children: [String] = []
        for i in 0..<150 {
            let group = "group-\(i)"
            children.append(group)
            form.append(
                Fixtures.container(
                    group, ["heading-\(i)"] + (i == 7 ? ["f-height"] : []) + (i == 120 ? ["f-width"] : [])))
            form.append(
                (
                    "heading-\(i)",
                    ["id": .string("heading-\(i)"), "type": "heading", "data": ["content": .string("Part \(i)")]]
                ))
        }
        form.append(Fixtures.container("root", children.reversed()))
        form.append(Fixtures.field("f-width", "b", "width"))
        form.append(Fixtures.field("f-height", "b", "height"))
        let json = Fixtures.workflow(nodes: [Fixtures.node("b", "blank_image")], form: form, root: "root")
        #expect(json["form"]?["elements"]?.objectValue?.count == 303)
        let workflow = try Workflow.parse(json, schemas: Fixtures.schemas)
        #expect(workflow.inputs.map(\.systemName) == ["b.width", "b.height"]) // group 120 comes before group 7
        #expect(workflow.warnings.isEmpty)
    }

    @Test func aFormNestedTensOfThousandsDeepIsWalkedWithoutRecursion() throws {
        // A crafted definition (PUT takes up to 32 MiB) could nest containers deeper than a
        // thread's stack allows recursion to go.
        let depth = 50_000
        var form = (0..<depth).map { Fixtures.container("c\($0)", [$0 + 1 < depth ? "c\($0 + 1)" : "f"]) }
        form.append(Fixtures.field("f", "b", "height"))
        let json = Fixtures.workflow(nodes: [Fixtures.node("b", "blank_image")], form: form, root: "c0")
        let workflow = try Workflow.parse(json, schemas: Fixtures.schemas)
        #expect(workflow.inputs.map(\.systemName) == ["b.height"])
    }

    @Test func withoutAFormTheExposedFieldsGiveTheOrderAndStaleOnesBecomeWarnings() throws {
        let json = Fixtures.workflow(
            nodes: [Fixtures.node("b", "blank_image", ["width": 8]), Fixtures.node("x", "no_such_node")],
            exposed: [
                ("b", "height"), ("gone", "width"), ("b", "nope"), ("b", "width"), ("x", "value"), ("b", "height"),
            ])
        let workflow = try Workflow.parse(json, schemas: Fixtures.schemas)
        #expect(workflow.inputs.map(\.systemName) == ["b.height", "b.width"])
        let messages = workflow.warnings.map(\.message)
        #expect(messages.contains { $0.contains("gone") })
        #expect(messages.contains { $0.contains("no field 'nope'") })
        #expect(messages.contains { $0.contains("'no_such_node' is not known") })
    }

    @Test func inputsAreFoundByIndexSystemNameOrUniqueLabel() throws {
        let json = Fixtures.workflow(
            nodes: [
                Fixtures.node("a", "string", ["value": "x"], labels: ["value": "Prompt"]),
                Fixtures.node("b", "string", ["value": "y"], labels: ["value": "Prompt"]),
                Fixtures.node("c", "string", ["value": "z"]),
            ],
            exposed: [("a", "value"), ("b", "value"), ("c", "value")])
        let workflow = try Workflow.parse(json, schemas: Fixtures.schemas)
        #expect(try workflow.input("1").systemName == "b.value")
        #expect(try workflow.input("c.value").index == 2)
        #expect(try workflow.input("Value").systemName == "c.value")
        #expect(throws: InputLookupError.self) { try workflow.input("3") }
        #expect(throws: InputLookupError.self) { try workflow.input("01") }
        do {
            _ = try workflow.input("Prompt")
            Issue.record("an ambiguous label was accepted")
        } catch {
            #expect(error.candidates == ["a.value", "b.value"])
        }
    }

    @Test func oddWorkflowsGiveWarningsNotCrashes() throws {
        let json = Fixtures.workflow(
            nodes: [
                Fixtures.node("b", "blank_image"), Fixtures.node("r", "img_blur"),
                Fixtures.node("n", "", kind: "notes"),
                ["id": "broken"],
            ],
            edges: [Fixtures.edge("b", "image", "r", "image")],
            exposed: [("r", "image")])
        let workflow = try Workflow.parse(json, schemas: Fixtures.schemas)
        #expect(workflow.inputs.count == 1)
        #expect(workflow.inputs[0].required == false) // fed by an edge
        #expect(workflow.warnings.contains { $0.message.contains("also fed by an edge") })
        #expect(workflow.warnings.contains { $0.nodeID == "broken" })
        // A required field nothing fills is named.
        let lonely = try Workflow.parse(
            Fixtures.workflow(nodes: [Fixtures.node("s", "save_image")]), schemas: Fixtures.schemas)
        #expect(lonely.warnings.contains { $0.nodeID == "s" && $0.field == "image" })
        #expect(throws: WorkflowParseError.self) { try Workflow.parse(["name": "x"], schemas: Fixtures.schemas) }
        #expect(throws: WorkflowParseError.self) { try Workflow.parse([1, 2], schemas: Fixtures.schemas) }
    }

    @Test func theFingerprintFollowsTheInputListAndDriftSaysHow() throws {
        let first = try Workflow.parse(Fixtures.blankBlurSave, schemas: Fixtures.schemas)
        let again = try Workflow.parse(Fixtures.blankBlurSave, schemas: Fixtures.schemas)
        #expect(first.fingerprint == again.fingerprint)
        // Same inputs, other values: same fingerprint.
        let json = Fixtures.workflow(
            nodes: [Fixtures.node("b", "blank_image", ["width": 1]), Fixtures.node("r", "img_blur")],
            exposed: [("b", "width"), ("b", "height"), ("r", "radius")])
        let reordered = Fixtures.workflow(
            nodes: [Fixtures.node("b", "blank_image", ["width": 2]), Fixtures.node("r", "img_blur")],
            exposed: [("b", "height"), ("b", "width"), ("b", "mode")])
        let old = try Workflow.parse(json, schemas: Fixtures.schemas)
        let new = try Workflow.parse(reordered, schemas: Fixtures.schemas)
        #expect(old.fingerprint != new.fingerprint)
        let drift = Workflow.drift(from: old, to: new)
        #expect(
            drift.moved == [
                .init(systemName: "b.width", from: 0, to: 1), .init(systemName: "b.height", from: 1, to: 0),
            ])
        #expect(drift.missing == ["r.radius"])
        #expect(drift.added == ["b.mode"])
        #expect(!drift.isCompatible)
        #expect(Workflow.drift(from: old, to: old).isCompatible)
    }

    @Test func schemasAreReadFromInvokeAIsOpenAPIShape() {
        let openAPI: JSONValue = [
            "components": [
                "schemas": [
                    "ResizeInvocation": [
                        "class": "invocation", "title": "Resize", "version": "1.2.2",
                        "output": ["$ref": "#/components/schemas/ImageOutput"],
                        "properties": [
                            "type": ["const": "img_resize", "default": "img_resize", "field_kind": "node_attribute"],
                            "id": ["type": "string", "field_kind": "node_attribute"],
                            "width": [
                                "type": "integer", "default": 512, "exclusiveMinimum": 0, "field_kind": "input",
                                "title": "Width", "orig_required": false,
                            ],
                            "image": [
                                "anyOf": [["$ref": "#/components/schemas/ImageField"], ["type": "null"]],
                                "field_kind": "input", "orig_required": true,
                            ],
                            "mode": ["type": "string", "enum": ["a", "b"], "field_kind": "input"],
                            "board": [
                                "anyOf": [["$ref": "#/components/schemas/BoardField"], ["type": "null"]],
                                "field_kind": "internal",
                            ],
                            "model": [
                                "anyOf": [["$ref": "#/components/schemas/ModelIdentifierField"], ["type": "null"]],
                                "field_kind": "input",
                                "ui_model_base": ["sd-1"], "ui_model_type": ["main"],
                            ],
                            "sizes": ["type": "array", "items": ["type": "integer"], "field_kind": "input"],
                        ],
                    ],
                    "ImageOutput": [
                        "class": "output", "properties": ["image": ["$ref": "#/components/schemas/ImageField"]],
                    ],
                    "NotAnInvocation": ["type": "object"],
                ]
            ]
        ]
        let table = InvocationSchemaTable(openAPI: openAPI)
        #expect(table.types == ["img_resize"])
        let resize = try! #require(table["img_resize"])
        #expect(resize.producesImages)
        #expect(resize.inputs["width"]?.kind == .integer)
        #expect(resize.inputs["width"]?.exclusiveMinimum == 0)
        #expect(resize.inputs["image"]?.kind == .image)
        #expect(resize.inputs["image"]?.required == true)
        #expect(resize.inputs["mode"]?.kind == .enumeration(["a", "b"]))
        #expect(resize.inputs["board"]?.kind == .board)
        #expect(resize.inputs["board"]?.isInternal == true)
        #expect(resize.inputs["model"]?.modelBases == ["sd-1"])
        #expect(resize.inputs["sizes"]?.kind == .collection(.integer))
        #expect(resize.inputs["id"] == nil)
    }
}
