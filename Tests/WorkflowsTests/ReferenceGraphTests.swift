import Foundation
import JSONValue
import Testing

@testable import Workflows
@testable import WorkflowsTestSupport

/// The engine against `ReferenceGraph`: for each workflow, the same inputs in the same order, and
/// the same `enqueue_batch` body and steps for three runs (only the required inputs given; every
/// input, some as inline images; every other input with a board for the run; the last two with
/// models standing in for stored ones). Over the unit fixtures and the example workflows here;
/// over InvokeAI's default workflows in `LiveReferenceGraphTests`.
@Suite("The graph against a plain reference")
struct ReferenceGraphTests {
    // MARK: offline cases

    /// Odd shapes the fixtures' workflows do not have: batch nodes, a generator, repeated ids,
    /// collapsed and repeated edges, handles the template lacks, stored models, notes.
    static var oddWorkflows: [(String, JSONValue)] {
        let model: JSONValue = ["key": "k-old", "hash": "h", "name": "tiny-sd15", "base": "sd-1", "type": "main"]
        return [
            (
                "batches",
                Fixtures.workflow(
                    nodes: [
                        Fixtures.node(
                            "ib", "image_batch",
                            [
                                "images": [["image_name": "a.png"], ["image_name": "b.png"]],
                                "batch_group_id": "Group 1",
                            ]),
                        Fixtures.node("sb", "string_batch", ["strings": ["x", "y"], "batch_group_id": "Group 1"]),
                        Fixtures.node("solo", "string_batch", ["strings": ["p", "q", "r"]]),
                        Fixtures.node("r", "img_blur"), Fixtures.node("t", "string"), Fixtures.node("u", "string"),
                        Fixtures.node("g", "string_generator"),
                    ],
                    edges: [
                        Fixtures.edge("ib", "image", "r", "image"), Fixtures.edge("sb", "value", "t", "value"),
                        Fixtures.edge("solo", "value", "u", "value"), Fixtures.edge("g", "value", "u", "value"),
                        Fixtures.edge("solo", "value", "nowhere", "value", type: "collapsed"),
                    ],
                    exposed: [("r", "image"), ("solo", "strings"), ("sb", "batch_group_id"), ("t", "value")])
            ),
            (
                "repeated ids and edges",
                Fixtures.workflow(
                    nodes: [
                        Fixtures.node("b", "blank_image", ["width": 8]),
                        Fixtures.node("s", "save_image", ["board": "b-1"], intermediate: false),
                        Fixtures.node("s", "save_image", ["image": ["image_name": "x.png"]], intermediate: false),
                        Fixtures.node("b", "img_blur", ["radius": 3.0]),
                        Fixtures.node("m", "main_model_loader", ["model": model]),
                        Fixtures.node("m", "model_identifier", ["model": model]),
                        Fixtures.node("n", "", kind: "notes"), Fixtures.node("x", "no_such_node"),
                    ],
                    edges: [
                        Fixtures.edge("b", "image", "s", "image"), Fixtures.edge("b", "image", "s", "image"),
                        Fixtures.edge("b", "image", "s", "image", type: "collapsed"),
                        Fixtures.edge("b", "width", "s", "retired"), Fixtures.edge("b", "width", "s", "retired"),
                        Fixtures.edge("n", "x", "s", "image"), Fixtures.edge("x", "out", "s", "board"),
                    ],
                    exposed: [("b", "height"), ("s", "board"), ("b", "width"), ("m", "model"), ("x", "y")])
            ),
            (
                "stored models",
                Fixtures.workflow(
                    nodes: [
                        Fixtures.node("any", "model_identifier", ["model": model]),
                        Fixtures.node("m", "main_model_loader", ["model": model]),
                        Fixtures.node("m2", "main_model_loader", ["model": model]),
                    ],
                    edges: [Fixtures.edge("any", "model", "m", "model")], exposed: [("m2", "model")])
            ),
        ]
    }

    @Test func theFixturesAndExamplesBuildWhatTheReferenceBuilds() throws {
        var coverage = ReferenceComparison.Coverage()
        try ReferenceComparison.check(
            Fixtures.blankBlurSave, "blank, blur, save", schemas: Fixtures.schemas, coverage: &coverage)
        for (name, definition) in Self.oddWorkflows {
            try ReferenceComparison.check(definition, name, schemas: Fixtures.schemas, coverage: &coverage)
        }
        let examples = try ReferenceComparison.examples()
        #expect(examples.count >= 3)
        for (name, definition) in examples {
            try ReferenceComparison.check(definition, name, schemas: Fixtures.schemas, coverage: &coverage)
        }
        #expect(coverage.workflows == 4 + examples.count)
        #expect(coverage.givenValues > 20 && coverage.inlineImages > 0 && coverage.runBoards > 0)
        #expect(coverage.standIns > 1 && coverage.batchData > 0)
        print("reference comparison, offline: \(coverage)")
    }
}
