import Foundation
import JSONValue
import Testing

@testable import Workflows

/// The comparison of the engine with `ReferenceGraph`, shared by the offline suite
/// (`ReferenceGraphTests`, fixtures and examples) and the live one (`LiveReferenceGraphTests`,
/// InvokeAI's default workflows).
enum ReferenceComparison {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The example workflows shipped in `workflows/`, by file name.
    static func examples() throws -> [(String, JSONValue)] {
        let folder = repository.appendingPathComponent("workflows")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
            .sorted()
            .map { ($0, try FastJSONParser.parse(Data(contentsOf: folder.appendingPathComponent($0)))) }
    }

    enum Variant: CaseIterable {
        /// The stored values, and the required inputs only.
        case stored
        /// Every input (images inline where they can be), the run's board "none", stand-in models.
        case every
        /// Every other input (and the required ones), a board for the run, stand-in models.
        case everyOther
    }

    /// A value of the field's kind that the engine takes as it is (so the reference can use it
    /// unconverted), distinct per input; later tries are plainer, for fields with bounds.
    static func candidate(_ field: FieldTemplate, _ kind: FieldKind, _ i: Int, attempt: Int, models: [InstalledModel])
        -> JSONValue?
    {
        switch kind {
        case .integer: return [.int(8 * (i + 1)), 1, 0][attempt]
        case .float: return [.double(0.5 + Double(i) / 1024), 0.25, 0][attempt]
        case .string: return .string(attempt == 0 ? "s\(i)" : "")
        case .boolean: return .bool(i % 2 == 0)
        case .enumeration(let options): return (attempt == 0 ? options.last : options.first).map { .string($0) }
        case .image: return ["image_name": .string("in-\(i).png")]
        case .board: return [["board_id": .string("board-\(i)")], "none", "auto"][(i + attempt) % 3]
        case .model:
            let model = models.first {
                (field.modelBases.isEmpty || field.modelBases.contains($0.base))
                    && (field.modelTypes.isEmpty || field.modelTypes.contains($0.type))
            }
            return model?.identifier
        case .color: return ["r": .int(i % 256), "g": 2, "b": 3, "a": 255]
        case .collection(let element):
            return candidate(field, element, i, attempt: attempt, models: models).map { .array([$0]) }
        case .other: return ["test": .int(i)]
        }
    }

    /// A tiny PNG, inline.
    static let inlinePNG =
        "data:image/png;base64,"
        + Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]).base64EncodedString()

    /// What the comparisons exercised, so a run that compared only stored values shows.
    struct Coverage {
        var workflows = 0, inputs = 0, givenValues = 0, inlineImages = 0, runBoards = 0, standIns = 0, batchData = 0
    }

    /// Compares the engine with the reference on one workflow, every variant.
    static func check(
        _ definition: JSONValue, _ name: String, schemas: InvocationSchemaTable, coverage: inout Coverage
    ) throws {
        let workflow = try Workflow.parse(definition, schemas: schemas)
        let inputs = ReferenceGraph.inputs(definition, schemas)
        #expect(workflow.inputs.map(\.systemName) == inputs.map { "\($0.node).\($0.field)" }, "\(name): inputs")
        guard workflow.inputs.count == inputs.count else { return }
        coverage.workflows += 1
        coverage.inputs += inputs.count

        // Models for model inputs, and stand-ins for every stored identifier (same name, base and
        // type, another key).
        let referenceNodes = ReferenceGraph.nodes(definition, schemas)
        var installed: [InstalledModel] = []
        for input in workflow.inputs where input.template?.kind == .model {
            let base = input.template?.modelBases.first ?? "sd-1", type = input.template?.modelTypes.first ?? "main"
            installed.append(
                InstalledModel(key: "test-\(base)-\(type)", hash: "h", name: "test \(base)", base: base, type: type))
        }
        for node in referenceNodes {
            for (field, template) in node.template?.inputs ?? [:] where template.kind == .model {
                guard let stored = node.stored(field), let modelName = stored["name"]?.stringValue else { continue }
                let base = stored["base"]?.stringValue ?? template.modelBases.first ?? "any"
                let type = stored["type"]?.stringValue ?? template.modelTypes.first ?? "any"
                let key = "stand-in \(modelName) \(base) \(type)"
                if !installed.contains(where: { $0.key == key }) {
                    installed.append(InstalledModel(key: key, hash: "h2", name: modelName, base: base, type: type))
                }
            }
        }

        for variant in Variant.allCases {
            // The request: by index for even inputs, by system name for odd ones.
            var request: [String: JSONValue] = [:]
            var attempts: [String: Int] = [:]
            var inputOfKey: [String: Int] = [:]
            for (i, input) in workflow.inputs.enumerated() {
                let given = input.required || variant == .every || (variant == .everyOther && i % 2 == 0)
                guard given, let field = input.template else { continue }
                let key = i % 2 == 0 ? String(i) : input.systemName
                inputOfKey[key] = i
                if variant == .every, field.kind == .image, i % 3 == 0 {
                    request[key] = .string(inlinePNG)
                } else {
                    request[key] = candidate(field, field.kind, i, attempt: 0, models: installed)
                }
            }
            let board: JSONValue? = [nil, "none", ["board_id": "run-board"]][Variant.allCases.firstIndex(of: variant)!]
            // Values a field's bounds refuse get a plainer one, then none.
            var resolved: ResolvedInputs?
            var refusal: [String] = []
            for _ in 0..<4 {
                switch workflow.validate(request, models: installed, board: board) {
                case .success(let values): resolved = values
                case .failure(let failure):
                    refusal = failure.errors.map { "\($0.key): \($0.message)" }
                    for error in failure.errors {
                        guard let i = inputOfKey[error.key], let field = workflow.inputs[i].template else {
                            Issue.record("\(name): \(error.key): \(error.message)")
                            return
                        }
                        attempts[error.key, default: 0] += 1
                        let attempt = attempts[error.key]!
                        request[error.key] =
                            attempt < 3 ? candidate(field, field.kind, i, attempt: attempt, models: installed) : nil
                    }
                }
                if resolved != nil { break }
            }
            guard var resolved else {
                Issue.record("\(name): inputs refused: \(refusal)")
                return
            }

            // What the reference writes: the request's values where given, by node and field.
            var values: ReferenceGraph.Values = [:]
            for (key, value) in request {
                let input = inputs[inputOfKey[key]!]
                values[input.node, default: [:]][input.field] =
                    value == .string(inlinePNG) ? ["image_name": .string("uploaded \(key).png")] : value
            }
            if let board { ReferenceGraph.addBoard(board, to: &values, definition, schemas) }

            // The engine: inline images uploaded, stand-ins merged, as the gateway does.
            coverage.givenValues += request.count
            coverage.inlineImages += resolved.inlineImages.count
            for index in resolved.inlineImages.keys {
                let key = index % 2 == 0 ? String(index) : workflow.inputs[index].systemName
                resolved.setImage("uploaded \(key).png", forInput: index)
            }
            if variant != .stored {
                ReferenceGraph.addStandIns(installed, to: &values, definition, schemas)
                let models = workflow.resolveModels(installed: installed, allowAnyOfBaseAndType: false, given: resolved)
                resolved.merge(models)
                coverage.standIns += models.values.count
            }
            let batchID: String? = variant == .everyOther ? "batch-7" : nil
            let body = workflow.buildBatch(
                resolved, origin: "origin \(name)", destination: "d", prepend: variant == .every, runs: 3,
                batchID: batchID)
            let json = try FastJSONParser.parse(body.bytes)
            let graphID = json["batch"]?["graph"]?["id"]?.stringValue ?? ""
            let expected = ReferenceGraph.batch(
                definition, schemas, values: values, graphID: graphID, origin: "origin \(name)", destination: "d",
                prepend: variant == .every, runs: 3, batchID: batchID)
            // Compared apart from the expectation, so a failure says where, not both bodies whole.
            let same = json == expected.body
            #expect(same, "\(name) (\(variant)): \(difference(json, expected.body))")
            #expect(body.nodeSteps == expected.steps, "\(name) (\(variant)): steps")
            if board == ["board_id": "run-board"] {
                coverage.runBoards += json.compactJSON.components(separatedBy: "run-board").count - 1
            }
            if json["batch"]?["data"] != nil { coverage.batchData += 1 }
        }
    }

    /// Where two bodies differ first, for the failure message.
    static func difference(_ a: JSONValue, _ b: JSONValue, path: String = "") -> String {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            for key in Set(x.keys).union(y.keys).sorted() where x[key] != y[key] {
                return difference(x[key] ?? .null, y[key] ?? .null, path: "\(path).\(key)")
            }
        case (.array(let x), .array(let y)) where x.count == y.count:
            for (i, pair) in zip(x, y).enumerated() where pair.0 != pair.1 {
                return difference(pair.0, pair.1, path: "\(path)[\(i)]")
            }
        default: break
        }
        return a == b
            ? "same" : "at \(path): engine \(a.compactJSON.prefix(300)), reference \(b.compactJSON.prefix(300))"
    }
}
