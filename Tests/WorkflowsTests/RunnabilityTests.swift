import JSONValue
import Testing

@testable import Workflows

@Suite("Runnability and stored models")
struct RunnabilityTests {
    private let tiny = Fixtures.models[0]
    private let otherSD15 = InstalledModel(key: "k-other", hash: "h3", name: "other-sd15", base: "sd-1", type: "main")
    private let sd15VAE = InstalledModel(key: "k-vae", hash: "h4", name: "a-vae", base: "sd-1", type: "vae")

    private func identifier(key: String, name: String, base: String = "sd-1", type: String = "main") -> JSONValue {
        [
            "key": .string(key), "hash": "blake3:old", "name": .string(name), "base": .string(base),
            "type": .string(type),
        ]
    }

    /// A main model loader `m` whose stored model is `stored`, feeding nothing; in the form when `exposed`.
    private func loader(_ stored: JSONValue, exposed: Bool = false) throws -> Workflow {
        try Workflow.parse(
            Fixtures.workflow(
                nodes: [Fixtures.node("m", "main_model_loader", ["model": stored])],
                exposed: exposed ? [("m", "model")] : []),
            schemas: Fixtures.schemas)
    }

    // MARK: static causes

    @Test func anUnknownNodeTypeMakesTheWorkflowUnrunnableAndNamesTheNodeAndType() throws {
        let json = Fixtures.workflow(nodes: [Fixtures.node("b", "blank_image"), Fixtures.node("x", "no_such_node")])
        let workflow = try Workflow.parse(json, schemas: Fixtures.schemas)
        #expect(workflow.staticIssues.count == 1)
        let issue = try #require(workflow.staticIssues.first)
        #expect(issue.kind == .unknownNodeType)
        #expect(issue.nodeID == "x")
        #expect(issue.nodeType == "no_such_node")
        #expect(issue.message.contains("no_such_node") && issue.message.contains("x"))
        #expect(issue.kind == .unknownNodeType)
        #expect(issue.nodeID == "x")
        #expect(issue.nodeType == "no_such_node")
        // Known models change nothing: the node alone stops it.
        let runnability = workflow.runnability(installed: Fixtures.models, allowAny: true)
        #expect(runnability.runnable == false)
        #expect(runnability.runnable == false)
        #expect(runnability.issues == [issue])
        #expect(workflow.runnability(installed: nil, allowAny: false).runnable == false)
        // The same workflow without it runs, models known or not (it needs none).
        let fine = try Workflow.parse(Fixtures.blankBlurSave, schemas: Fixtures.schemas)
        #expect(fine.staticIssues.isEmpty)
        #expect(fine.runnability(installed: nil, allowAny: false).runnable == true)
    }

    @Test func aRequiredFieldNothingFillsIsACauseButARequiredFormInputIsNot() throws {
        let lonely = try Workflow.parse(
            Fixtures.workflow(nodes: [Fixtures.node("s", "save_image")]), schemas: Fixtures.schemas)
        #expect(lonely.staticIssues.map(\.kind) == [.missingRequiredValue])
        #expect(lonely.staticIssues.first?.nodeID == "s")
        #expect(lonely.staticIssues.first?.field == "image")
        #expect(lonely.staticIssues.first?.systemName == "s.image")
        #expect(lonely.runnability(installed: [], allowAny: false).runnable == false)
        // Fed by an edge, or in the form (a request can fill it: `validate` asks for it): no cause.
        let fed = try Workflow.parse(
            Fixtures.workflow(
                nodes: [Fixtures.node("b", "blank_image"), Fixtures.node("s", "save_image")],
                edges: [Fixtures.edge("b", "image", "s", "image")]), schemas: Fixtures.schemas)
        #expect(fed.staticIssues.isEmpty)
        // An edge from a node the workflow does not have fills nothing.
        let dangling = try Workflow.parse(
            Fixtures.workflow(
                nodes: [Fixtures.node("s", "save_image")], edges: [Fixtures.edge("gone", "image", "s", "image")]),
            schemas: Fixtures.schemas)
        #expect(dangling.staticIssues.map(\.systemName) == ["s.image"])
        let asked = try Workflow.parse(
            Fixtures.workflow(nodes: [Fixtures.node("m", "main_model_loader")], exposed: [("m", "model")]),
            schemas: Fixtures.schemas)
        #expect(asked.staticIssues.isEmpty)
        #expect(asked.modelReferences.isEmpty)
        #expect(asked.runnability(installed: Fixtures.models, allowAny: false).runnable == true)
    }

    @Test func aGeneratorThatFeedsTheGraphIsACauseAndOneThatFeedsNothingIsNot() throws {
        let feeding = Fixtures.workflow(
            nodes: [
                Fixtures.node("g", "string_generator"), Fixtures.node("sb", "string_batch", ["strings": ["stale"]]),
                Fixtures.node("t", "string"),
            ],
            edges: [Fixtures.edge("g", "strings", "sb", "strings"), Fixtures.edge("sb", "value", "t", "value")])
        let workflow = try Workflow.parse(feeding, schemas: Fixtures.schemas)
        #expect(workflow.staticIssues.map(\.kind) == [.unsupportedGenerator])
        #expect(workflow.staticIssues.first?.nodeID == "g")
        #expect(workflow.staticIssues.first?.nodeType == "string_generator")
        #expect(workflow.staticIssues.first?.message.contains("sb.strings") == true)
        let alone = Fixtures.workflow(nodes: [
            Fixtures.node("g", "string_generator"), Fixtures.node("t", "string", ["value": "x"]),
        ])
        let harmless = try Workflow.parse(alone, schemas: Fixtures.schemas)
        #expect(harmless.staticIssues.isEmpty)
        #expect(harmless.warnings.contains { $0.nodeID == "g" }) // still said, as before
    }

    // MARK: stored models

    @Test func aStoredModelWhoseKeyIsInstalledResolvesByKeyAndIsKeptAsStored() throws {
        let stored = identifier(key: "k-tiny", name: "renamed since")
        let workflow = try loader(stored)
        #expect(
            workflow.modelReferences == [
                ModelReference(nodeID: "m", field: "model", stored: stored, bases: ["sd-1", "sd-2"], types: ["main"])
            ])
        let result = workflow.resolveModels(installed: [otherSD15, tiny], allowAnyOfBaseAndType: false)
        #expect(result.issues.isEmpty)
        #expect(result.resolutions.map(\.method) == [.key])
        #expect(result.resolutions.first?.resolved == tiny)
        #expect(result.resolutions.first?.isSubstitution == false)
        #expect(result.values.isEmpty) // the stored identifier is sent as it is
        #expect(result.resolutions.first?.method == .key)
        #expect(result.resolutions.first?.reference.stored == stored)
        #expect(workflow.runnability(installed: [tiny], allowAny: false).runnable == true)
        // Models unknown (InvokeAI unreachable): listed, unresolved, and "don't know".
        let unknown = workflow.runnability(installed: nil, allowAny: false)
        #expect(unknown.runnable == nil)
        #expect(unknown.runnable == nil)
        #expect(unknown.resolutions.map(\.reference.systemName) == ["m.model"])
        #expect(unknown.resolutions.first?.resolved == nil)
    }

    @Test func aStoredKeyNotInstalledResolvesByNameBaseAndTypeAndTheBatchSendsTheInstalledKey() throws {
        let workflow = try loader(identifier(key: "k-old", name: "tiny-sd15"))
        let result = workflow.resolveModels(
            installed: [Fixtures.models[1], otherSD15, tiny], allowAnyOfBaseAndType: false)
        #expect(result.issues.isEmpty)
        let resolution = try #require(result.resolutions.first)
        #expect(resolution.method == .name)
        #expect(resolution.resolved == tiny)
        #expect(resolution.message == "used 'tiny-sd15' (k-tiny) in place of 'tiny-sd15' (k-old)")
        #expect(result.values == ["m.model": tiny.identifier])

        // Merged into the request's values, the graph writer sends the installed identifier in
        // place of the stored one, though the field is not an input.
        guard case .success(var resolved) = workflow.validate([:], models: []) else { Issue.record("refused"); return }
        let stale = workflow.buildBatch(resolved, origin: "o", destination: "d").json
        #expect(stale["batch"]?["graph"]?["nodes"]?["m"]?["model"]?["key"] == "k-old")
        resolved.merge(result)
        let body = workflow.buildBatch(resolved, origin: "o", destination: "d")
        let json = try FastJSONParser.parse(body.bytes)
        #expect(json["batch"]?["graph"]?["nodes"]?["m"]?["model"] == tiny.identifier)
        // The embedded workflow stays as it was made.
        #expect(json["batch"]?["workflow"]?["nodes"]?[0]?["data"]?["inputs"]?["model"]?["value"]?["key"] == "k-old")
    }

    @Test func withNoMatchTheIssueListsTheInstalledModelsOfThatBaseAndType() throws {
        let workflow = try loader(identifier(key: "k-gone", name: "gone"))
        let result = workflow.resolveModels(
            installed: [Fixtures.models[1], tiny, sd15VAE, otherSD15], allowAnyOfBaseAndType: false)
        #expect(result.resolutions.map(\.method) == [nil])
        #expect(result.values.isEmpty)
        let issue = try #require(result.issues.first)
        #expect(result.issues.count == 1)
        #expect(issue.kind == .unresolvedModel)
        #expect(issue.nodeID == "m")
        #expect(issue.field == "model")
        #expect(issue.candidates == [otherSD15, tiny]) // sd-1 main only, by name
        #expect(
            issue.message
                == "node m (main_model_loader) field 'model': model 'gone' (key k-gone) is not installed; installed sd-1 main models: 'other-sd15' (k-other), 'tiny-sd15' (k-tiny)"
        )
        #expect(issue.candidates.map { [$0.name, $0.key] } == [["other-sd15", "k-other"], ["tiny-sd15", "k-tiny"]])
        #expect(issue.systemName == "m.model")
        let runnability = workflow.runnability(installed: [tiny, otherSD15], allowAny: false)
        #expect(runnability.runnable == false)
        #expect(runnability.issues.map(\.kind) == [.unresolvedModel])

        // None of that base and type: said so.
        let none = try #require(
            workflow.resolveModels(installed: [Fixtures.models[1], sd15VAE], allowAnyOfBaseAndType: false).issues.first)
        #expect(none.candidates.isEmpty)
        #expect(none.message.hasSuffix("is not installed; no installed model is sd-1 main"))
        // Two of the stored name, base and type: neither is guessed.
        let twin = InstalledModel(key: "k-twin", hash: "h5", name: "tiny-sd15", base: "sd-1", type: "main")
        let ambiguous = try loader(identifier(key: "k-old", name: "tiny-sd15")).resolveModels(
            installed: [tiny, twin], allowAnyOfBaseAndType: false)
        #expect(ambiguous.issues.first?.message.contains("2 installed sd-1 main models are named 'tiny-sd15'") == true)
        #expect(ambiguous.values.isEmpty)
    }

    @Test func allowAnyPicksTheFirstModelOfTheSameBaseAndTypeByName() throws {
        let workflow = try loader(identifier(key: "k-gone", name: "gone"))
        let result = workflow.resolveModels(
            installed: [Fixtures.models[1], sd15VAE, tiny, otherSD15], allowAnyOfBaseAndType: true)
        #expect(result.issues.isEmpty)
        let resolution = try #require(result.resolutions.first)
        #expect(resolution.method == .any)
        #expect(resolution.resolved == otherSD15)
        #expect(resolution.isSubstitution)
        #expect(resolution.message == "used 'other-sd15' (k-other) in place of 'gone' (k-gone)")
        #expect(resolution.method == .any)
        #expect(resolution.resolved == otherSD15)
        #expect(result.values == ["m.model": otherSD15.identifier])
        #expect(workflow.runnability(installed: [tiny, otherSD15], allowAny: true).runnable == true)
        // Nothing of that base and type: still an issue.
        #expect(
            workflow.resolveModels(installed: [Fixtures.models[1], sd15VAE], allowAnyOfBaseAndType: true).issues.map(
                \.kind) == [.unresolvedModel])
    }

    @Test func aModelFieldFedByAnEdgeIsNotAReference() throws {
        // `any` holds a model it hands to `m`: only `any`'s stored model is sent.
        let json = Fixtures.workflow(
            nodes: [
                Fixtures.node("any", "model_identifier", ["model": identifier(key: "k-tiny", name: "tiny-sd15")]),
                Fixtures.node("m", "main_model_loader", ["model": identifier(key: "k-gone", name: "gone")]),
            ],
            edges: [Fixtures.edge("any", "model", "m", "model")])
        let workflow = try Workflow.parse(json, schemas: Fixtures.schemas)
        #expect(workflow.modelReferences.map(\.systemName) == ["any.model"])
        #expect(workflow.runnability(installed: [tiny], allowAny: false).runnable == true)
        // A graph node's stored model is a reference whether or not the form shows it.
        let unexposed = try loader(identifier(key: "k-gone", name: "gone"))
        #expect(unexposed.inputs.isEmpty)
        #expect(unexposed.modelReferences.map(\.systemName) == ["m.model"])
    }

    @Test func aRequestInputOverridingTheModelFieldIsNotResolved() throws {
        let workflow = try loader(identifier(key: "k-gone", name: "gone"), exposed: true)
        #expect(workflow.inputs.map(\.systemName) == ["m.model"])
        // Not given: the stored model must resolve, and here cannot.
        #expect(
            workflow.resolveModels(installed: [tiny], allowAnyOfBaseAndType: false).issues.map(\.kind) == [
                .unresolvedModel
            ])
        // Given: the request's model is what runs (checked by `validate`); the stored one is not looked at.
        guard case .success(let resolved) = workflow.validate(["0": "tiny-sd15"], models: [tiny]) else {
            Issue.record("refused"); return
        }
        let result = workflow.resolveModels(installed: [tiny], allowAnyOfBaseAndType: false, given: resolved)
        #expect(result.resolutions.isEmpty)
        #expect(result.issues.isEmpty)
        #expect(result.values.isEmpty)
        let runnability = workflow.runnability(installed: [tiny], allowAny: false, given: resolved)
        #expect(runnability.runnable == true)
        #expect(runnability.resolutions.isEmpty)
    }

    @Test func aSubstitutedModelIsWrittenInPlaceOfTheStoredOne() throws {
        let json = Fixtures.workflow(nodes: [
            Fixtures.node("x", "no_such_node"),
            Fixtures.node("m", "main_model_loader", ["model": identifier(key: "k-old", name: "tiny-sd15")]),
        ])
        let runnability = try Workflow.parse(json, schemas: Fixtures.schemas).runnability(
            installed: [tiny], allowAny: false)
        #expect(runnability.issues.map(\.kind) == [.unknownNodeType])
        #expect(runnability.resolutions.map(\.method) == [.name])
        #expect(runnability.values == ["m.model": tiny.identifier])
    }
}
