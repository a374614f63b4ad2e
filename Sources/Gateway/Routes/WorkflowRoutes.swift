import Digests
import Foundation
import HTTPServer
import InvokeAI
import JSONValue
import Workflows

/// `/v1/workflows`: the catalog, each workflow's inputs and schema, its stored definition.
enum WorkflowRoutes {
    static func add(
        to router: inout AccessRouter, catalog: WorkflowCatalog, models: InstalledModelList,
        uploads: WorkflowUploadLimits = WorkflowUploadLimits()
    ) {
        let prepared = PreparedViews()
        // Both read routes answer from prepared bytes on the event loop when nothing needs
        // reading (the usual case); otherwise as a task, as any route that awaits.
        router.add(
            .GET, "/v1/workflows",
            .either(
                now: { _, _ in
                    guard let current = catalog.currentWithoutIO(),
                        let (installed, stamp) = models.modelsWithoutIO(for: current.entries)
                    else { return nil }
                    return prepared.response(for: .init(name: nil, generation: current.generation, modelStamp: stamp)) {
                        listResponse(
                            current.entries.map { ($0, InstalledModelList.runnability(of: $0, against: installed)) })
                    }
                },
                later: { _, _ in
                    var views: [(WorkflowCatalog.Entry, JSONValue)] = []
                    for entry in try await listed(catalog) {
                        views.append((entry, await models.runnability(of: entry)))
                    }
                    return listResponse(views)
                }))
        router.add(
            .GET, "/v1/workflows/{name}",
            .either(
                now: { request, _ in
                    guard let current = catalog.currentWithoutIO(),
                        let entry = current.byName[request.pathParameters["name"] ?? ""],
                        let (installed, stamp) = models.modelsWithoutIO(for: [entry])
                    else { return nil }
                    let runnability = InstalledModelList.runnability(of: entry, against: installed)
                    if let notModified = notModified(request, entry, runnability) { return notModified }
                    return prepared.response(
                        for: .init(name: entry.name, generation: current.generation, modelStamp: stamp)
                    ) {
                        detailResponse(entry, runnability)
                    }
                },
                later: { request, _ in
                    let entry = try await named(request, catalog)
                    let runnability = await models.runnability(of: entry)
                    if let notModified = notModified(request, entry, runnability) { return notModified }
                    return detailResponse(entry, runnability)
                }))
        router.add(
            .GET, "/v1/workflows/{name}/schema",
            .async { request, _ in
                .json(
                    try await named(request, catalog).workflow.runRequestSchema, contentType: "application/schema+json")
            })
        router.add(
            .GET, "/v1/workflows/{name}/definition",
            .async { request, _ in
                .json(try await named(request, catalog).workflow.definition)
            })
        router.add(
            .PUT, "/v1/workflows/{name}/definition",
            .async { request, _ in
                let name = request.pathParameters["name"] ?? ""
                try request.requireJSONBody()
                guard request.body.count <= uploads.maxDefinitionBytes else {
                    throw HTTPError(
                        .contentTooLarge,
                        "a workflow definition may have at most \(uploads.maxDefinitionBytes) bytes; this one has \(request.body.count)"
                    )
                }
                let definition: JSONValue
                do {
                    definition = try FastJSONParser.parse(request.body)
                } catch {
                    throw HTTPError(.badRequest, "the body is not JSON: \(error)")
                }
                let existed = try await listed(catalog).contains { $0.name == name }
                do {
                    let entry = try await catalog.store(name: name, definition: definition, limits: uploads)
                    var response = HTTPResponse.json(entry.detailJSON, status: existed ? .ok : .created)
                    response.headers["Location"] = "/v1/workflows/\(name)"
                    return response
                } catch let error as WorkflowParseError {
                    throw HTTPError(.unprocessableContent, "not a workflow: \(error.message)", type: .invalidWorkflow)
                } catch let error as WorkflowCatalog.CatalogError {
                    switch error {
                    case .libraryName(let name, let id):
                        throw HTTPError(
                            .conflict, "\(error)", type: .workflowNameTaken,
                            extensions: ["name": .string(name), "library_id": .string(id)])
                    case .quotaExceeded:
                        throw HTTPError(.insufficientStorage, "\(error)", type: .workflowQuotaExceeded)
                    default:
                        throw HTTPError(.unprocessableContent, "\(error)", type: .invalidWorkflow)
                    }
                }
            })
        router.add(
            .DELETE, "/v1/workflows/{name}/definition",
            .async { request, _ in
                let entry = try await named(request, catalog)
                do {
                    try catalog.remove(entry)
                } catch let error as WorkflowCatalog.CatalogError {
                    throw HTTPError(.conflict, "\(error)")
                }
                return HTTPResponse(status: .noContent)
            })
    }

    /// `{"workflows": [...]}`: each summary with whether it can run and the first reasons not.
    private static func listResponse(_ views: [(WorkflowCatalog.Entry, JSONValue)]) -> HTTPResponse {
        let summaries: [JSONValue] = views.compactMap { entry, runnability in
            guard case .object(var fields) = entry.summaryJSON else { return nil }
            fields["runnable"] = runnability["runnable"] ?? .null
            // The reasons, short: the full list is in the workflow's description.
            fields["not_runnable_because"] = .array(
                (runnability["issues"]?.arrayValue ?? []).prefix(5).compactMap { $0["message"] }
                    + (runnability["runnable_reason"].map { [$0] } ?? []))
            return .object(fields)
        }
        return .json(["workflows": .array(summaries)] as JSONValue)
    }

    /// A workflow's description with its runnability.
    private static func detailResponse(_ entry: WorkflowCatalog.Entry, _ runnability: JSONValue) -> HTTPResponse {
        guard case .object(var detail) = entry.detailJSON else { return .json(entry.detailJSON) }
        for (key, value) in runnability.objectValue ?? [:] { detail[key] = value }
        var response = HTTPResponse.json(JSONValue.object(detail))
        response.headers["ETag"] = detailETag(entry, runnability)
        // Kept, but revalidated on every use: the workflow file can change at any time.
        response.headers["Cache-Control"] = "no-cache"
        return response
    }

    /// `"<fingerprint>-<runnability digest>"`: the description changes when the workflow's inputs
    /// do (the fingerprint, which a run's `If-Match` compares) and when what InvokeAI has changes
    /// whether it can run here (its nodes, models), so a 304 never hands back a stale `runnable`.
    static func detailETag(_ entry: WorkflowCatalog.Entry, _ runnability: JSONValue) -> String {
        let digest = SHA256.hex(runnability.compactJSONBytes).prefix(16)
        return "\"\(entry.workflow.fingerprint)-\(digest)\""
    }

    private static func notModified(_ request: HTTPRequest, _ entry: WorkflowCatalog.Entry, _ runnability: JSONValue)
        -> HTTPResponse?
    {
        let etag = detailETag(entry, runnability)
        guard let match = request.headers["If-None-Match"], StaticFiles.matches(match, etag: etag) else { return nil }
        return HTTPResponse(status: .notModified, headers: ["ETag": etag, "Cache-Control": "no-cache"])
    }

    static func listed(_ catalog: WorkflowCatalog) async throws -> [WorkflowCatalog.Entry] {
        try await catalog.entries()
    }

    static func named(_ request: HTTPRequest, _ catalog: WorkflowCatalog) async throws -> WorkflowCatalog.Entry {
        let name = request.pathParameters["name"] ?? ""
        guard let entry = try await catalog.entry(name) else {
            throw HTTPError(.notFound, "no workflow named '\(name)'; GET /v1/workflows lists them")
        }
        return entry
    }
}
