import Foundation
import HTTPServer
import InvokeAI
import JSONValue
import Workflows

/// `POST /v1/workflows/{name}/runs`: validate the inputs, build the graph the GUI would, enqueue
/// it as one batch, and answer 202 (or, when asked to wait, the finished run or its image).
struct RunSubmission: Sendable {
    let catalog: WorkflowCatalog
    let tracker: RunTracker
    let client: InvokeAIClient
    let idempotency: IdempotencyStore
    /// Longest `wait` honoured, in seconds.
    let maxWait: Double

    func add(to router: inout Router) {
        router.add(.POST, "/v1/workflows/{name}/runs", .async { request in try await submit(request) })
    }

    func submit(_ request: HTTPRequest) async throws -> HTTPResponse {
        let entry = try await WorkflowRoutes.named(request, catalog)
        let workflow = entry.workflow
        let body = try parseBody(request)

        if let expected = request.headers["If-Match"]?.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")),
           expected != "*", expected != workflow.fingerprint {
            var extensions: [String: JSONValue] = ["fingerprint": .string(workflow.fingerprint)]
            if let old = catalog.version(expected) { extensions["drift"] = Workflow.drift(from: old, to: workflow).json }
            throw HTTPError(.preconditionFailed, "workflow \(entry.name) changed: its inputs no longer match fingerprint \(expected)",
                            title: "Workflow drifted", extensions: extensions)
        }

        let key = request.headers["Idempotency-Key"]
        // The parsed body in canonical form (sorted keys, no whitespace): a client that re-encodes the
        // same request, with its keys in another order, is still the same request.
        let digest = RequestDigest.of(Array(entry.name.utf8), Array(body.compactJSON.utf8))
        if let key {
            switch idempotency.check(key: key, requestDigest: digest) {
            case .new: break
            case .replay(let id):
                if let run = tracker.run(id) { return try await answer(run, request, created: false) }
            case .mismatch(let id):
                throw HTTPError(.unprocessableContent, "Idempotency-Key '\(key)' was already used with another request (run \(id))",
                                extensions: ["run": .string(id)])
            }
        }

        let inputs = body["inputs"]?.objectValue ?? [:]
        let needsModels = workflow.inputs.contains { $0.type == "model" }
        var models: [InstalledModel] = []
        if needsModels {
            do { models = try await client.models().map(InstalledModel.init(json:)) } catch { throw UpstreamProblem.from(error) }
        }
        var resolved: ResolvedInputs
        switch workflow.validate(inputs.dictionary, models: models, board: body["board"]) {
        case .success(let values): resolved = values
        case .failure(let failure): throw Self.invalidInputs(failure.errors, workflow: entry.name)
        }

        // Inline images (data URLs, base64) are uploaded first; the run deletes them when it ends.
        var uploaded: [String] = []
        for (systemName, image) in resolved.inlineImages.sorted(by: { $0.key < $1.key }) {
            do {
                let stored = try await client.uploadImage(Data(image.bytes), fileName: "\(systemName).input",
                                                          contentType: image.contentType, isIntermediate: true)
                resolved.setImage(stored.name, for: systemName)
                uploaded.append(stored.name)
            } catch {
                await tracker.cleaner.removeNow(uploaded, run: "", reason: "input of a refused submission")
                throw UpstreamProblem.from(error)
            }
        }

        let origin = RunTracker.origin(for: entry.name)
        let batch = workflow.buildBatch(resolved, origin: origin, destination: tracker.destination, prepend: body["priority"]?.boolValue ?? false)
        let result: EnqueueResult
        do {
            result = try await client.enqueueBatch(body: batch.bytes, origin: origin, destination: tracker.destination)
        } catch {
            // `enqueueBatch` throws InvokeAIError only (typed throws).
            await tracker.cleaner.removeNow(uploaded, run: "", reason: "input of a refused submission")
            if error.statusCode == 422, let list = error.validationErrors {
                throw Self.upstreamInvalid(list, workflow: workflow, name: entry.name)
            }
            throw UpstreamProblem.from(error)
        }
        var run = Run(id: result.batchId, workflow: entry.name, itemIDs: result.itemIds)
        run.uploadedImages = uploaded
        run.cleanup = body["cleanup"]?.stringValue
        run.nodeSteps = batch.nodeSteps
        tracker.register(run)
        if let key { try? idempotency.record(key: key, requestDigest: digest, runID: run.id) }
        return try await answer(tracker.run(run.id) ?? run, request, created: true)
    }

    /// 202 with Location; when asked to wait and the run ended in time, 200 with the run, or its
    /// single output image when the client accepts images.
    private func answer(_ run: Run, _ request: HTTPRequest, created: Bool) async throws -> HTTPResponse {
        var current = run
        let wait = min(maxWait, requestedWait(request))
        if wait > 0, !current.status.isTerminal { current = await tracker.wait(run.id, timeout: wait) ?? current }
        let location = "/v1/runs/\(run.id)"
        guard current.status.isTerminal else {
            var response = HTTPResponse.json(current.json, status: .accepted)
            response.headers["Location"] = location
            return response
        }
        if acceptsImage(request), current.status == .completed {
            let images = (current.outputs.arrayValue ?? []).flatMap { $0["images"]?.arrayValue ?? [] }
            if images.count == 1, let name = images[0]["name"]?.stringValue {
                do {
                    let (data, type) = try await client.imageData(name)
                    tracker.outputFetched(name)
                    return HTTPResponse(status: .ok, headers: ["Content-Type": type ?? "image/png", "Location": location,
                                                               "Content-Location": "/v1/images/\(name)"], bytes: Array(data))
                } catch { throw UpstreamProblem.from(error) }
            }
        }
        var response = HTTPResponse.json(current.json, status: .ok)
        response.headers["Location"] = location
        return response
    }

    private func requestedWait(_ request: HTTPRequest) -> Double {
        if let text = request.query("wait"), let seconds = Double(text) { return max(0, seconds) }
        for preference in request.headers.tokens("Prefer") where preference.hasPrefix("wait=") {
            if let seconds = Double(preference.dropFirst(5)) { return max(0, seconds) }
        }
        return 0
    }

    private func acceptsImage(_ request: HTTPRequest) -> Bool {
        request.headers.tokens("Accept").contains { token in
            let type = ParameterizedValue(parsing: token).value
            return type.hasPrefix("image/")
        }
    }

    private func parseBody(_ request: HTTPRequest) throws -> JSONValue {
        if request.body.isEmpty { return ["inputs": [:]] }
        guard let body = try? FastJSONParser.parse(request.body), body.objectValue != nil else {
            throw HTTPError(.badRequest, "the body must be a JSON object: {\"inputs\": {...}}")
        }
        if let inputs = body["inputs"], inputs.objectValue == nil {
            throw HTTPError(.unprocessableContent, "\"inputs\" must be an object keyed by input index, system name or label")
        }
        if let cleanup = body["cleanup"], cleanup != "outputs", cleanup != "none" {
            throw HTTPError(.unprocessableContent, "\"cleanup\" must be \"outputs\" or \"none\"")
        }
        return body
    }

    static func invalidInputs(_ errors: [InputError], workflow: String) -> HTTPError {
        HTTPError(.unprocessableContent, "\(errors.count) input\(errors.count == 1 ? "" : "s") of workflow \(workflow) \(errors.count == 1 ? "is" : "are") not valid",
                  title: "Invalid inputs", extensions: ["errors": .array(errors.map(\.json))])
    }

    /// InvokeAI refused the graph (pydantic `loc`: ..., node id, field): name the inputs it means.
    static func upstreamInvalid(_ list: [JSONValue], workflow: Workflow, name: String) -> HTTPError {
        let errors: [JSONValue] = list.map { item in
            let loc = (item["loc"]?.arrayValue ?? []).compactMap { $0.stringValue }
            let message = item["msg"]?.stringValue ?? "refused by InvokeAI"
            for index in loc.indices.dropLast() {
                let systemName = "\(loc[index]).\(loc[index + 1])"
                if let input = workflow.inputs.first(where: { $0.systemName == systemName }) {
                    return ["index": .int(input.index), "system_name": .string(systemName), "message": .string(message)]
                }
            }
            return ["loc": .array(loc.map { .string($0) }), "message": .string(message)]
        }
        return HTTPError(.unprocessableContent, "InvokeAI refused the graph of workflow \(name)", title: "Invalid inputs",
                         extensions: ["errors": .array(errors)])
    }
}
