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
    /// Validation, runnability and model and board resolution of a request's inputs.
    let preparation: RunPreparation
    /// Longest `wait` honoured, in seconds.
    let maxWait: Double
    /// Refuses a submission over the key's concurrent runs.
    let access: AccessPolicy

    func add(to router: inout AccessRouter) {
        router.add(.POST, "/v1/workflows/{name}/runs", .async { request, caller in try await submit(request, caller) })
    }

    func submit(_ request: HTTPRequest, _ caller: Caller) async throws -> HTTPResponse {
        // Before anything is looked up: a form a cross-site page posts is not a run request.
        try request.requireJSONBody()
        // A malformed ?wait is the client's mistake, said before anything is looked up.
        let wait = try RunRepresentation.requestedWait(request)
        // Over the tenant's concurrent runs, refused before anything is read (a keyed retry is
        // checked once it is known not to find its run).
        if request.headers["Idempotency-Key"] == nil {
            try access.checkConcurrentRuns(caller, running: tracker.unfinishedCount(owner: caller.tenant))
        }
        var entry = try await WorkflowRoutes.named(request, catalog)
        if !entry.schemasLive {
            // Described from the saved schemas while InvokeAI is down: nothing can be checked or
            // run. Ask once more, so the answer carries InvokeAI's own failure (503/504).
            _ = try await catalog.schemas()
            entry = try await WorkflowRoutes.named(request, catalog)
        }
        let workflow = entry.workflow
        let body = try parseBody(request)

        // The fingerprint alone, or the description's whole ETag (`<fingerprint>-<runnability digest>`):
        // only the fingerprint part is a precondition of the run.
        if let tag = request.headers["If-Match"]?.trimmingCharacters(in: .whitespaces).trimmingCharacters(
            in: CharacterSet(charactersIn: "\"")),
            case let expected = String(tag.prefix { $0 != "-" }),
            expected != "*", expected != workflow.fingerprint
        {
            var extensions: [String: JSONValue] = ["fingerprint": .string(workflow.fingerprint)]
            if let old = catalog.version(expected) {
                extensions["drift"] = Workflow.drift(from: old, to: workflow).json
            }
            throw HTTPError(
                .preconditionFailed,
                "workflow \(entry.name) changed: its inputs no longer match fingerprint \(expected)",
                type: .workflowDrifted, extensions: extensions)
        }

        guard let key = request.headers["Idempotency-Key"] else {
            return try await enqueue(
                entry, body, request, batchID: UUID().uuidString.lowercased(), caller: caller, wait: wait)
        }
        guard !key.isEmpty, key.utf8.count <= 255 else {
            throw HTTPError(.badRequest, "Idempotency-Key must be 1 to 255 bytes")
        }
        // The parsed body in canonical form (sorted keys, no whitespace): a client that re-encodes the
        // same request, with its keys in another order, is still the same request.
        let digest = RequestDigest.of(Array(entry.name.utf8), Array(body.compactJSON.utf8))
        // Keys are per tenant: B's key names another batch than A's same key, so it never finds A's run.
        let scoped = caller.tenant.isEmpty ? key : "\(caller.tenant)\u{1F}\(key)"
        return try await idempotency.withKey(scoped) {
            try await submitKeyed(
                entry, body, request, key: key, scopedKey: scoped, digest: digest, caller: caller, wait: wait)
        }
    }

    /// A keyed submission, while no other request with the key runs: InvokeAI's record decides
    /// whether the key's run exists (the batch id is the key's), the digest whether this is the
    /// same request.
    private func submitKeyed(
        _ entry: WorkflowCatalog.Entry, _ body: JSONValue, _ request: HTTPRequest,
        key: String, scopedKey: String, digest: String, caller: Caller, wait: Double
    ) async throws -> HTTPResponse {
        let owner = caller.tenant
        let batchID = idempotency.batchID(for: scopedKey)
        func mismatch() -> HTTPError {
            HTTPError(
                .unprocessableContent,
                "Idempotency-Key '\(key)' was already used with another request (run \(batchID))",
                type: .idempotencyKeyReused, extensions: ["run": .string(batchID)])
        }
        if let first = idempotency.digest(for: scopedKey), first != digest { throw mismatch() }
        if let existing = try await tracker.lookup(batchID) {
            guard existing.workflow == entry.name, existing.owner == owner else { throw mismatch() }
            return try await answer(existing, request, wait: wait)
        }
        // A retry that finds its run is answered above, whatever the limit.
        try access.checkConcurrentRuns(caller, running: tracker.unfinishedCount(owner: owner))
        do {
            try idempotency.remember(key: scopedKey, requestDigest: digest)
        } catch {
            throw HTTPError(
                .serviceUnavailable, "the idempotency key could not be stored: \(error)", type: .idempotencyStoreFailed,
                headers: ["Retry-After": "5"])
        }
        return try await enqueue(entry, body, request, batchID: batchID, caller: caller, wait: wait)
    }

    /// A caller without admin may give as an input only an image it may read (its runs' outputs
    /// and inputs, its uploads): any other name is refused as if InvokeAI had no such image, so
    /// a run cannot read another tenant's image, and names do not tell what exists. 422 listing
    /// every such input.
    private func checkImageInputs(_ resolved: ResolvedInputs, of entry: WorkflowCatalog.Entry, caller: Caller)
        async throws
    {
        guard !caller.isAdmin else { return }
        var errors: [JSONValue] = []
        for input in entry.workflow.inputs {
            guard let kind = input.template?.kind, kind == .image || kind == .collection(.image),
                let value = resolved.values[input.index]
            else { continue }
            let names = (value.arrayValue ?? [value]).compactMap { $0["image_name"]?.stringValue }
            for name in names {
                do {
                    try await ImageRoutes.checkAccess(
                        name, caller, deleting: false, client: client, tracker: tracker)
                } catch let error as HTTPError where error.status == .notFound {
                    errors.append([
                        "index": .int(input.index), "input": .string(String(input.index)),
                        "system_name": .string(input.systemName),
                        "message": .string("no image \(name) in InvokeAI"),
                    ])
                }
            }
        }
        if !errors.isEmpty { throw RunPreparation.refusal(errors, workflow: entry.name) }
    }

    /// Validates, resolves and enqueues one run as batch `batchID`, then answers.
    private func enqueue(
        _ entry: WorkflowCatalog.Entry, _ body: JSONValue, _ request: HTTPRequest,
        batchID: String, caller: Caller, wait: Double
    ) async throws -> HTTPResponse {
        let owner = caller.tenant
        let workflow = entry.workflow
        let inputs = body["inputs"]?.objectValue ?? [:]
        let prepared = try await preparation.prepare(
            entry, inputs: inputs, board: body["board"],
            anyModel: body["models"]?.stringValue == "any")
        var resolved = prepared.inputs
        try await checkImageInputs(resolved, of: entry, caller: caller)

        // Inline images (data URLs, base64) are uploaded first; the run deletes them when it ends.
        var uploaded: [String] = []
        let images = resolved.inlineImages.map { (input: workflow.inputs[$0.key], image: $0.value) }
        for (input, image) in images.sorted(by: { $0.input.systemName < $1.input.systemName }) {
            do {
                let stored = try await client.uploadImage(
                    Data(image.bytes), fileName: "\(input.systemName).input",
                    contentType: image.contentType, isIntermediate: true)
                resolved.setImage(stored.name, forInput: input.index)
                uploaded.append(stored.name)
            } catch {
                await tracker.cleaner.removeNow(uploaded, run: "", reason: "input of a refused submission")
                throw error
            }
        }

        let origin = RunTracker.origin(for: entry.name, owner: owner)
        let batch = workflow.buildBatch(
            resolved, origin: origin, destination: tracker.destination,
            prepend: body["priority"]?.boolValue ?? false, batchID: batchID)
        let result: EnqueueResult
        do {
            result = try await client.enqueueBatch(body: batch.bytes, batchId: batchID)
        } catch {
            // `enqueueBatch` throws InvokeAIError only (typed throws).
            if error.statusCode == 422, let list = error.validationErrors {
                await tracker.cleaner.removeNow(uploaded, run: "", reason: "input of a refused submission")
                throw Self.upstreamInvalid(list, workflow: workflow, name: entry.name)
            }
            // After an ambiguous failure the run may exist: its inputs stay until it is known.
            if !error.mayHaveCommitted {
                await tracker.cleaner.removeNow(uploaded, run: "", reason: "input of a refused submission")
            }
            throw error
        }
        var run = Run(id: result.batchId, workflow: entry.name, owner: owner, itemIDs: result.itemIds)
        run.uploadedImages = uploaded
        run.cleanup = body["cleanup"]?.stringValue
        run.nodeSteps = batch.nodeSteps
        run.models = prepared.models
        tracker.register(run)
        return try await answer(tracker.run(run.id) ?? run, request, wait: wait)
    }

    /// 202 with Location while the run has not ended (the run exists, whatever `Accept` says);
    /// when asked to wait and the run ended in time, 200 with the run, or as `RunRepresentation`
    /// says for a client that asks for an image.
    private func answer(_ run: Run, _ request: HTTPRequest, wait requested: Double) async throws -> HTTPResponse {
        var current = run
        let wait = min(maxWait, requested)
        if wait > 0, !current.status.isTerminal { current = await tracker.wait(run.id, timeout: wait) ?? current }
        let location = "/v1/runs/\(run.id)"
        guard current.status.isTerminal else {
            var response = HTTPResponse.json(current.json, status: .accepted)
            response.headers["Location"] = location
            return response
        }
        var response: HTTPResponse
        do {
            response =
                try await RunRepresentation(request).answer(current, client: client, tracker: tracker)
                ?? HTTPResponse.json(current.json, status: .ok)
        } catch var refusal as HTTPError {
            // The run was made: its URL is in the 406 too.
            refusal.headers["Location"] = location
            throw refusal
        }
        response.headers["Location"] = location
        return response
    }

    private func parseBody(_ request: HTTPRequest) throws -> JSONValue {
        if request.body.isEmpty { return ["inputs": [:]] }
        // Whatever the parser's complaint, the answer is the same 400 saying what the body must be.
        guard let body = try? FastJSONParser.parse(request.body), body.objectValue != nil else {
            throw HTTPError(.badRequest, "the body must be a JSON object: {\"inputs\": {...}}")
        }
        if let inputs = body["inputs"], inputs.objectValue == nil {
            throw HTTPError(
                .unprocessableContent, "\"inputs\" must be an object keyed by input index, system name or label")
        }
        if let cleanup = body["cleanup"], cleanup != "outputs", cleanup != "none" {
            throw HTTPError(.unprocessableContent, "\"cleanup\" must be \"outputs\" or \"none\"")
        }
        if let models = body["models"], models != "any", models != "stored" {
            throw HTTPError(
                .unprocessableContent,
                "\"models\" must be \"stored\" (the default: a stored model reference resolves by key, then by name, base and type) or \"any\" (else any installed model of the same base and type)"
            )
        }
        if let priority = body["priority"], priority.boolValue == nil {
            throw HTTPError(.unprocessableContent, "\"priority\" must be true or false")
        }
        // A misspelt option would otherwise be ignored silently (e.g. "board_id" for "board").
        let unknown = (body.objectValue.map { Array($0.keys) } ?? []).filter { !Self.bodyKeys.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw HTTPError(
                .unprocessableContent,
                "unknown member\(unknown.count == 1 ? "" : "s") \(unknown.prefix(20).map { "\"\($0)\"" }.joined(separator: ", ")) in the run request; known: \(Self.bodyKeys.sorted().joined(separator: ", "))"
            )
        }
        return body
    }

    static let bodyKeys: Set<String> = ["inputs", "board", "priority", "cleanup", "models"]

    static func invalidInputs(_ errors: [InputError], workflow: String) -> HTTPError {
        HTTPError(
            .unprocessableContent,
            "\(errors.count) input\(errors.count == 1 ? "" : "s") of workflow \(workflow) \(errors.count == 1 ? "is" : "are") not valid",
            type: .invalidInputs, extensions: ["errors": .array(errors.map(\.json))])
    }

    /// InvokeAI refused the graph (pydantic `loc`: ..., node id, field): name the inputs it means.
    static func upstreamInvalid(_ list: [JSONValue], workflow: Workflow, name: String) -> HTTPError {
        let errors: [JSONValue] = list.map { item in
            let loc = (item["loc"]?.arrayValue ?? []).compactMap { $0.stringValue }
            let message = item["msg"]?.stringValue ?? "refused by InvokeAI"
            for index in loc.indices.dropLast() {
                let systemName = "\(loc[index]).\(loc[index + 1])"
                if let input = workflow.inputs.first(where: { $0.systemName == systemName }) {
                    return [
                        "index": .int(input.index), "system_name": .string(systemName), "message": .string(message),
                    ]
                }
            }
            return ["loc": .array(loc.map { .string($0) }), "message": .string(message)]
        }
        return HTTPError(
            .unprocessableContent, "InvokeAI refused the graph of workflow \(name)", type: .invalidInputs,
            extensions: ["errors": .array(errors)])
    }
}
