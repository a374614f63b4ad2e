import JSONValue
import Testing

@testable import Workflows

@Suite("Graph building and outputs")
struct GraphBuildingTests {
    private func build(_ json: JSONValue, _ values: [String: JSONValue] = [:]) throws -> JSONValue {
        let workflow = try Workflow.parse(json, schemas: Fixtures.schemas)
        guard case .success(let resolved) = workflow.validate(values, models: Fixtures.models) else {
            Issue.record("inputs refused")
            return .null
        }
        return workflow.buildBatch(resolved, origin: "invokeai-gateway:test", destination: "dest", prepend: true).json
    }

    @Test func valuesAreSubstitutedIntoACopyAsTheGUIWouldSendThem() throws {
        let definition = Fixtures.blankBlurSave
        let body = try build(definition, ["0": 32, "Colour": "#010203", "4": "board-9"])
        let batch = try #require(body["batch"])
        #expect(body["prepend"] == true)
        #expect(batch["origin"] == "invokeai-gateway:test")
        #expect(batch["destination"] == "dest")
        #expect(batch["runs"] == 1)
        let nodes = try #require(batch["graph"]?["nodes"])
        #expect(
            nodes["b"] == [
                "id": "b", "type": "blank_image", "width": 32, "height": 48,
                "color": ["r": 1, "g": 2, "b": 3, "a": 255],
                "use_cache": true, "is_intermediate": true,
            ])
        // Edge-fed `image` is omitted; the saved board id becomes a BoardField. An output node never
        // answers from InvokeAI's cache (each run owns its output images), whatever it stores.
        #expect(
            nodes["s"] == [
                "id": "s", "type": "save_image", "board": ["board_id": "board-9"], "use_cache": false,
                "is_intermediate": false,
            ])
        #expect(batch["graph"]?["edges"]?.arrayValue?.count == 2)
        // The workflow is embedded without its id, and the definition itself is untouched.
        #expect(batch["workflow"]?["id"] == nil)
        #expect(batch["workflow"]?["name"] == "Test flow")
        #expect(definition["id"] == "wf-1")
        #expect(batch["data"] == nil)
    }

    @Test func theBodyCopiesStoredValuesAndTheWorkflowFromTheDefinitionsOwnText() throws {
        // Pretty-printed, with an escaped key, a repeated field (the last one counts, as for any
        // JSON reader), a field this InvokeAI does not know, and an escaped string value.
        let text = #"""
            {
              "id": "wf-9", "name": "Text \\ flow",
              "nodes": [
                {"id": "b", "type": "invocation", "data": {"id": "b", "type": "blank_image", "isIntermediate": false, "useCache": false,
                  "inputs": {
                    "w\u0069dth": {"name": "width", "value": 64},
                    "height": {"name": "height", "value": 8},
                    "height": {"name": "height", "value": 16},
                    "mode": {"name": "mode", "value": "RG\u0042"},
                    "retired": {"name": "retired", "value": 1},
                    "board": {"name": "board", "value": "none"}
                  }}}
              ],
              "edges": [],
              "form": {"rootElementId": "r", "elements": {
                "r": {"id": "r", "type": "container", "data": {"children": ["f"]}},
                "f": {"id": "f", "type": "node-field", "data": {"fieldIdentifier": {"nodeId": "b", "fieldName": "height"}}}
              }}
            }
            """#
        let workflow = try Workflow.parse(JSONDocument(parsing: Array(text.utf8)), schemas: Fixtures.schemas)
        #expect(workflow.inputs.map(\.value) == [16])
        guard case .success(let resolved) = workflow.validate([:], models: []) else {
            Issue.record("inputs refused"); return
        }
        let body = workflow.buildBatch(resolved, origin: "o", destination: "d")
        let json = try FastJSONParser.parse(body.bytes) // valid JSON, strictly
        #expect(
            json["batch"]?["graph"]?["nodes"]?["b"] == [
                "id": "b", "type": "blank_image", "width": 64, "height": 16, "mode": "RGB",
                "use_cache": false, "is_intermediate": false,
            ])
        var expected = try #require(workflow.definition.objectValue)
        expected["id"] = nil
        #expect(json["batch"]?["workflow"] == .object(expected))
        #expect(json["batch"]?["workflow"]?["name"] == "Text \\ flow")
        // Stored values travel as the definition wrote them.
        #expect(String(decoding: body.bytes, as: UTF8.self).contains(#""mode":"RG\u0042""#))
    }

    @Test func edgesAndTheFormNameNodesByTheirIdsTextHoweverEscaped() throws {
        // Ids are matched by their decoded text: "\u0062" is node "b", "s\u0061ve" is node "save".
        let text = #"""
            {"name": "escaped ids", "nodes": [
                {"id": "b", "type": "invocation", "data": {"id": "b", "type": "blank_image", "inputs": {"width": {"name": "width", "value": 8}}}},
                {"id": "save", "type": "invocation", "data": {"id": "save", "type": "save_image", "isIntermediate": false,
                  "inputs": {"image": {"name": "image", "value": {"image_name": "stale.png"}}}}}
              ],
              "edges": [{"id": "e", "type": "default", "source": "\u0062", "sourceHandle": "image", "target": "s\u0061ve", "targetHandle": "image"},
                        {"id": "e2", "type": "default", "source": "b", "sourceHandle": "image", "target": "save", "targetHandle": "im\u0061ge"}],
              "form": {"rootElementId": "ro\u006ft", "elements": {
                "root": {"id": "root", "type": "container", "data": {"children": ["f\u0031"]}},
                "f1": {"id": "f1", "type": "node-field", "data": {"fieldIdentifier": {"nodeId": "\u0062", "fieldName": "wid\u0074h"}}}
              }}}
            """#
        let workflow = try Workflow.parse(JSONDocument(parsing: Array(text.utf8)), schemas: Fixtures.schemas)
        #expect(workflow.inputs.map(\.systemName) == ["b.width"])
        #expect(workflow.inputs.first?.value == 8)
        #expect(workflow.warnings.isEmpty)
        guard case .success(let resolved) = workflow.validate(["0": 16], models: []) else {
            Issue.record("inputs refused"); return
        }
        let batch = try #require(workflow.buildBatch(resolved, origin: "o", destination: "d").json["batch"])
        // One edge (the second is the same connection), and the fed field left out of the node.
        #expect(
            batch["graph"]?["edges"] == [
                ["source": ["node_id": "b", "field": "image"], "destination": ["node_id": "save", "field": "image"]]
            ])
        #expect(batch["graph"]?["nodes"]?["save"]?["image"] == nil)
        #expect(batch["graph"]?["nodes"]?["b"]?["width"] == 16)
    }

    @Test func edgesThatDifferAreAllSentEvenIntoOneFieldAndUnknownHandlesPassThrough() throws {
        // Two sources into one field is InvokeAI's to refuse, not the gateway's to pick from; an
        // edge into a field the template lacks is sent as drawn, once.
        let json = Fixtures.workflow(
            nodes: [
                Fixtures.node("a", "blank_image"), Fixtures.node("b", "blank_image"),
                Fixtures.node("s", "save_image", intermediate: false),
            ],
            edges: [
                Fixtures.edge("a", "image", "s", "image"), Fixtures.edge("b", "image", "s", "image"),
                Fixtures.edge("a", "image", "s", "image"),
                Fixtures.edge("a", "image", "s", "retired"), Fixtures.edge("a", "image", "s", "retired"),
                Fixtures.edge("b", "width", "s", "image"),
            ])
        let edges = try #require(try build(json)["batch"]?["graph"]?["edges"]?.arrayValue)
        let pairs = edges.map {
            "\($0["source"]!["node_id"]!.stringValue!).\($0["source"]!["field"]!.stringValue!)->\($0["destination"]!["field"]!.stringValue!)"
        }
        #expect(pairs == ["a.image->image", "b.image->image", "a.image->retired", "b.width->image"])
    }

    @Test func autoAndNoneBoardsAreLeftOutAndCollapsedOrDuplicateEdgesDropped() throws {
        let json = Fixtures.workflow(
            nodes: [
                Fixtures.node("b", "blank_image", ["board": "none"]),
                Fixtures.node(
                    "s", "save_image", ["board": "auto", "image": ["image_name": "stale.png"]], intermediate: false),
                Fixtures.node("n", "", kind: "notes"),
            ],
            edges: [
                Fixtures.edge("b", "image", "s", "image"), Fixtures.edge("b", "image", "s", "image"),
                Fixtures.edge("b", "image", "s", "image", type: "collapsed"), Fixtures.edge("n", "x", "s", "image"),
            ])
        let graph = try #require(try build(json)["batch"]?["graph"])
        #expect(graph["nodes"]?.objectValue?.keys.sorted() == ["b", "s"])
        #expect(graph["nodes"]?["b"]?["board"] == nil)
        #expect(graph["nodes"]?["s"]?["board"] == nil)
        #expect(graph["nodes"]?["s"]?["image"] == nil) // the edge's value wins
        #expect(
            graph["edges"] == [
                ["source": ["node_id": "b", "field": "image"], "destination": ["node_id": "s", "field": "image"]]
            ])
    }

    @Test func aRunsBoardGoesToEveryOutputNodeUnlessAnInputSetsIt() throws {
        let workflow = try Workflow.parse(Fixtures.blankBlurSave, schemas: Fixtures.schemas)
        func saveNode(_ values: [String: JSONValue], board: JSONValue) throws -> JSONValue? {
            guard case .success(let resolved) = workflow.validate(values, models: [], board: board) else { return nil }
            return workflow.buildBatch(resolved, origin: "o", destination: "d").json["batch"]?["graph"]?["nodes"]?["s"]
        }
        #expect(try saveNode([:], board: "board-7")?["board"] == ["board_id": "board-7"])
        #expect(try saveNode([:], board: ["board_id": "board-8"])?["board"] == ["board_id": "board-8"])
        // "none" drops the workflow's own board; an explicit board input wins over the run's.
        #expect(try saveNode([:], board: "none")?["board"] == nil)
        #expect(try saveNode(["Output board": "board-1"], board: "board-7")?["board"] == ["board_id": "board-1"])
        // Intermediate image nodes are not outputs: their board is not touched.
        guard case .success(let resolved) = workflow.validate([:], models: [], board: "board-7") else {
            Issue.record("refused"); return
        }
        #expect(resolved.values.isEmpty)
        #expect(workflow.boardReferences(in: resolved).map(\.systemName) == ["s.board"])
        // A bad board is listed with the other errors.
        guard case .failure(let failure) = workflow.validate(["0": "wide"], models: [], board: 42) else {
            Issue.record("accepted"); return
        }
        #expect(failure.errors.map(\.key) == ["0", "board"])
    }

    @Test func theBoardsARunNamesByIdAreListedAndCanBeRenamedToTheirIds() throws {
        let workflow = try Workflow.parse(Fixtures.blankBlurSave, schemas: Fixtures.schemas)
        func resolve(_ values: [String: JSONValue], board: JSONValue?) throws -> ResolvedInputs {
            guard case .success(let resolved) = workflow.validate(values, models: [], board: board) else {
                throw InputErrors([])
            }
            return resolved
        }
        // A board input, and the run's board on the output whose board the form shows.
        for resolved in [try resolve(["Output board": "board-1"], board: nil), try resolve([:], board: "board-1")] {
            let boards = workflow.boardReferences(in: resolved)
            #expect(boards.map(\.systemName) == ["s.board"])
            #expect(boards.map(\.inputIndex) == [4])
            #expect(boards.map(\.id) == ["board-1"])
            var renamed = resolved
            renamed.setBoard("id-9", for: try #require(boards.first))
            let node = workflow.buildBatch(renamed, origin: "o", destination: "d").json["batch"]?["graph"]?["nodes"]?[
                "s"]
            #expect(node?["board"] == ["board_id": "id-9"])
        }
        #expect(workflow.boardReferences(in: try resolve([:], board: "none")).isEmpty)
        #expect(workflow.boardReferences(in: try resolve(["4": "auto"], board: "board-2")).isEmpty)

        // Outputs outside the form are listed without an input, by system name.
        let two = try Workflow.parse(
            Fixtures.workflow(
                nodes: [
                    Fixtures.node("t", "save_image", intermediate: false),
                    Fixtures.node("s", "save_image", intermediate: false),
                ],
                exposed: [("t", "board")]),
            schemas: Fixtures.schemas)
        guard case .success(let resolved) = two.validate([:], models: [], board: ["board_id": "b-3"]) else {
            Issue.record("refused"); return
        }
        let boards = two.boardReferences(in: resolved)
        #expect(boards.map(\.systemName) == ["s.board", "t.board"])
        #expect(boards.map(\.inputIndex) == [nil, 0])
        #expect(resolved.values.isEmpty)
    }

    @Test func batchNodesBecomeBatchDataZippedByGroupAndMultipliedOtherwise() throws {
        let json = Fixtures.workflow(
            nodes: [
                Fixtures.node(
                    "ib", "image_batch",
                    ["images": [["image_name": "a.png"], ["image_name": "b.png"]], "batch_group_id": "Group 1"]),
                Fixtures.node("sb", "string_batch", ["strings": ["x", "y"], "batch_group_id": "Group 1"]),
                Fixtures.node("solo", "string_batch", ["strings": ["p", "q", "r"]]),
                Fixtures.node("r", "img_blur"), Fixtures.node("t", "string"), Fixtures.node("u", "string"),
            ],
            edges: [
                Fixtures.edge("ib", "image", "r", "image"), Fixtures.edge("sb", "value", "t", "value"),
                Fixtures.edge("solo", "value", "u", "value"),
            ])
        let batch = try #require(try build(json)["batch"])
        #expect(batch["graph"]?["nodes"]?.objectValue?.keys.sorted() == ["r", "t", "u"])
        #expect(batch["graph"]?["edges"] == [])
        let data = try #require(batch["data"]?.arrayValue)
        #expect(data.count == 2)
        #expect(data.contains([["node_path": "u", "field_name": "value", "items": ["p", "q", "r"]]]))
        #expect(
            data.contains([
                [
                    "node_path": "r", "field_name": "image",
                    "items": [["image_name": "a.png"], ["image_name": "b.png"]],
                ],
                ["node_path": "t", "field_name": "value", "items": ["x", "y"]],
            ]))
    }

    @Test func outputsAreMappedThroughThePreparedIdsIncludingIterations() throws {
        let workflow = try Workflow.parse(Fixtures.blankBlurSave, schemas: Fixtures.schemas)
        let item: JSONValue = [
            "session": [
                "source_prepared_mapping": ["s": ["p1", "p2"], "r": ["p3"], "b": ["p4"]],
                "results": [
                    "p1": ["type": "image_output", "image": ["image_name": "one.png"], "width": 64, "height": 48],
                    "p2": ["type": "image_output", "image": ["image_name": "two.png"], "width": 64, "height": 48],
                    "p3": ["type": "image_output", "image": ["image_name": "blurred.png"], "width": 64, "height": 48],
                    "p4": ["type": "image_output", "image": ["image_name": "blank.png"], "width": 64, "height": 48],
                ],
            ]
        ]
        let outputs = workflow.mapOutputs(queueItem: item)
        let save = try #require(outputs.first { $0.nodeID == "s" })
        #expect(save.isOutput)
        #expect(save.boardInputIndex == 4)
        #expect(
            save.images == [
                OutputImage(name: "one.png", width: 64, height: 48),
                OutputImage(name: "two.png", width: 64, height: 48),
            ])
        // Intermediate nodes' images are reported but are not outputs.
        #expect(outputs.first { $0.nodeID == "r" }?.isOutput == false)
        #expect(workflow.mapOutputs(queueItem: ["session": [:]]).isEmpty)
    }

    @Test func theRunRequestSchemaNamesEveryWayToAddressAnInput() throws {
        let workflow = try Workflow.parse(Fixtures.blankBlurSave, schemas: Fixtures.schemas)
        let properties = try #require(workflow.runRequestSchema["properties"]?["inputs"]?["properties"]?.objectValue)
        for key in ["0", "b.width", "Width", "4", "s.board", "Output board"] {
            #expect(properties[key] != nil, "\(key) missing")
        }
        #expect(workflow.runRequestSchema["properties"]?["inputs"]?["additionalProperties"] == false)
        // Every member the run endpoint reads (Gateway's RunSubmission.bodyKeys, held to the same
        // list there), and no other: unknown members are refused.
        #expect(workflow.runRequestSchema["additionalProperties"] == false)
        let members = Set(workflow.runRequestSchema["properties"]?.objectValue?.keys.map { $0 } ?? [])
        #expect(members == ["inputs", "board", "priority", "cleanup", "models"])
        #expect(workflow.runRequestSchema["required"] == nil)
    }
}
