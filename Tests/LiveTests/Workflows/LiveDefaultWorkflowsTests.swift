import Foundation
import JSONValue
import TestSupport
import Testing

@testable import Workflows

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// InvokeAI's own default workflows (read from the harness's InvokeAI library, never copied into
/// the repository), against the engine: every one parses, its inputs match the GUI's form, and
/// the graph the engine builds is accepted by `enqueue_batch` wherever the engine sees no problem.
/// A workflow the engine finds not runnable (a node type this InvokeAI no longer has, a stored
/// model not installed) is refused before anything is enqueued, as the gateway refuses it.
@Suite(
    "Live: InvokeAI's default workflows", .enabled(if: !LiveEnvironment.skipRequested, LiveEnvironment.skipReason))
struct LiveDefaultWorkflowsTests {
    static func base() throws -> URL { try LiveEnvironment.invokeAIURL() }

    static func get(_ path: String) async throws -> JSONValue {
        let (data, _) = try await TestHTTP.data(from: URL(string: path, relativeTo: try base())!)
        return try JSONDecoder().decode(JSONValue.self, from: data)
    }

    static func post(_ path: String, _ body: [UInt8]) async throws -> (Int, JSONValue) {
        var request = URLRequest(url: URL(string: path, relativeTo: try base())!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body)
        let (data, response) = try await TestHTTP.data(for: request)
        return (response.statusCode, (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .null)
    }

    static func cancel(_ destination: String) async throws {
        var cancel = URLRequest(
            url: URL(
                string: "/api/v1/queue/default/cancel_by_destination?destination=\(destination)", relativeTo: try base()
            )!)
        cancel.httpMethod = "PUT"
        _ = try await TestHTTP.data(for: cancel)
    }

    /// The GUI's count of inputs, computed here on its own: node-fields reachable from the form's
    /// root, or the exposed fields whose node and field exist.
    static func expectedInputCount(_ json: JSONValue, schemas: InvocationSchemaTable) -> Int {
        if let form = json["form"], let root = form["rootElementId"]?.stringValue,
            let elements = form["elements"]?.objectValue, elements[root] != nil
        {
            var count = 0
            var stack = [root]
            while let id = stack.popLast() {
                guard let element = elements[id] else { continue }
                if element["type"] == "node-field" { count += 1 }
                stack += (element["data"]?["children"]?.arrayValue ?? []).compactMap(\.stringValue)
            }
            if count > 0 { return count }
        }
        let nodes = Dictionary(
            (json["nodes"]?.arrayValue ?? []).compactMap { node in node["id"]?.stringValue.map { ($0, node) } },
            uniquingKeysWith: { a, _ in a })
        return Set(
            (json["exposedFields"]?.arrayValue ?? []).compactMap { field -> String? in
                guard let nodeID = field["nodeId"]?.stringValue, let name = field["fieldName"]?.stringValue,
                    let type = nodes[nodeID]?["data"]?["type"]?.stringValue, schemas[type]?.inputs[name] != nil
                else { return nil }
                return "\(nodeID).\(name)"
            }
        ).count
    }

    @Test func everyDefaultWorkflowParsesMatchesTheFormAndEnqueuesWhenTheEngineSeesNoProblem() async throws {
        let schemas = InvocationSchemaTable(openAPI: try await Self.get("/openapi.json"))
        #expect(schemas["gateway_test_slow"] != nil, "the test node pack is not among the schemas")
        let listing = try await Self.get("/api/v1/workflows/?categories=default&per_page=100")
        let ids = (listing["items"]?.arrayValue ?? []).compactMap { $0["workflow_id"]?.stringValue }
        #expect(ids.count == 26)
        let destination = "gateway-test-defaults-\(UUID().uuidString.prefix(8))"
        let installed = (try await Self.get("/api/v2/models/")["models"]?.arrayValue ?? []).map(
            InstalledModel.init(json:))
        var accepted = 0, notRunnable = 0, refusedAtAnInput = 0
        for id in ids {
            let definition = try #require(try await Self.get("/api/v1/workflows/i/\(id)")["workflow"])
            let name = definition["name"]?.stringValue ?? id
            let workflow = try Workflow.parse(definition, schemas: schemas)
            #expect(
                workflow.inputs.count == Self.expectedInputCount(definition, schemas: schemas), "\(name): input count")
            // Well-formed identifiers for model inputs (of the base and type each field takes),
            // installed as far as the engine knows (InvokeAI checks keys only when a run starts).
            var values: [String: JSONValue] = [:]
            var models: [InstalledModel] = []
            for input in workflow.inputs where input.type == "model" {
                let base = input.template?.modelBases.first ?? "sd-1", type = input.template?.modelTypes.first ?? "main"
                let model = InstalledModel(
                    key: "test-\(base)-\(type)", hash: "blake3:0", name: "test \(base)", base: base, type: type)
                values[input.systemName] = model.identifier
                models.append(model)
            }
            // Required inputs with no value get a well-formed one of their kind.
            for input in workflow.inputs where input.required && values[input.systemName] == nil {
                switch input.template?.kind {
                case .image?: values[input.systemName] = "not-uploaded.png"
                case .string?: values[input.systemName] = "a test prompt"
                case .other(let type)? where type.hasPrefix("Video"):
                    values[input.systemName] = ["video_name": "not-uploaded.mp4"]
                default: break
                }
            }
            var resolved: ResolvedInputs
            switch workflow.validate(values, models: models) {
            case .success(let values): resolved = values
            case .failure(let failure):
                Issue.record(
                    "\(name): the engine refused well-formed inputs: \(failure.errors.map { "\($0.systemName ?? $0.key): \($0.message)" })"
                )
                continue
            }
            let runnability = workflow.runnability(installed: installed, allowAny: false, given: resolved)
            guard runnability.runnable == true else {
                #expect(!runnability.issues.isEmpty, "\(name): not runnable without a cause")
                notRunnable += 1
                continue
            }
            resolved.merge(runnability)
            let body = workflow.buildBatch(resolved, origin: "invokeai-gateway:test", destination: destination)
            // The bytes the gateway sends.
            let (status, answer) = try await Self.post("/api/v1/queue/default/enqueue_batch", body.bytes)
            if status == 200 {
                accepted += 1
                // Nothing of this test is meant to run (video models on a CPU): cancel at once.
                try await Self.cancel(destination)
            } else {
                // Refused for a reason only the server can see (a file that does not exist there):
                // each error must point at one of the workflow's inputs, so the gateway can say which.
                let locations = (answer["detail"]?.arrayValue ?? []).map {
                    ($0["loc"]?.arrayValue ?? []).compactMap(\.stringValue)
                }
                let pointAtInputs =
                    !locations.isEmpty
                    && locations.allSatisfy { loc in
                        loc.indices.dropLast().contains {
                            workflow.inputs.map(\.systemName).contains("\(loc[$0]).\(loc[$0 + 1])")
                        }
                            || loc.indices.dropLast(2).contains {
                                workflow.inputs.map(\.systemName).contains("\(loc[$0]).\(loc[$0 + 2])")
                            }
                    }
                #expect(
                    pointAtInputs,
                    "\(name): InvokeAI refused a graph the engine found fine: \(answer.compactJSON.prefix(400))")
                if pointAtInputs { refusedAtAnInput += 1 }
            }
        }
        try await Self.cancel(destination)
        #expect(accepted + notRunnable + refusedAtAnInput == ids.count)
        print(
            "default workflows: \(accepted) enqueued, \(notRunnable) not runnable here (refused before enqueueing), \(refusedAtAnInput) refused by InvokeAI at an input"
        )
    }
}
