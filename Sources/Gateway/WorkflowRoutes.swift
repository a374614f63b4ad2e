import Foundation
import HTTPServer
import InvokeAI
import JSONValue
import Workflows

/// `/v1/workflows`: the catalog, each workflow's inputs and schema, its stored definition.
enum WorkflowRoutes {
    static func add(to router: inout Router, catalog: WorkflowCatalog, models: InstalledModelList) {
        router.add(.GET, "/v1/workflows", .async { _ in
            let entries = try await listed(catalog)
            var summaries: [JSONValue] = []
            for entry in entries {
                guard case .object(var fields) = entry.summaryJSON, case .object(let runnability) = await models.runnability(of: entry) else { continue }
                fields["runnable"] = runnability["runnable"] ?? .null
                // The reasons, short: the full list is in the workflow's description.
                fields["not_runnable_because"] = .array((runnability["issues"]?.arrayValue ?? []).prefix(5).compactMap { $0["message"] }
                                                        + (runnability["runnable_reason"].map { [$0] } ?? []))
                summaries.append(.object(fields))
            }
            return .json(["workflows": .array(summaries)] as JSONValue)
        })
        router.add(.GET, "/v1/workflows/{name}", .async { request in
            let entry = try await named(request, catalog)
            let etag = "\"\(entry.workflow.fingerprint)\""
            if request.headers["If-None-Match"] == etag { return HTTPResponse(status: .notModified, headers: ["ETag": etag]) }
            guard case .object(var detail) = entry.detailJSON, case .object(let runnability) = await models.runnability(of: entry) else {
                return .json(entry.detailJSON)
            }
            for (key, value) in runnability { detail[key] = value }
            var response = HTTPResponse.json(JSONValue.object(detail))
            response.headers["ETag"] = etag
            return response
        })
        router.add(.GET, "/v1/workflows/{name}/schema", .async { request in
            .json(try await named(request, catalog).workflow.runRequestSchema, contentType: "application/schema+json")
        })
        router.add(.GET, "/v1/workflows/{name}/definition", .async { request in
            .json(try await named(request, catalog).workflow.definition)
        })
        router.add(.PUT, "/v1/workflows/{name}/definition", .async { request in
            let name = request.pathParameters["name"] ?? ""
            let definition: JSONValue
            do {
                definition = try FastJSONParser.parse(request.body)
            } catch {
                throw HTTPError(.badRequest, "the body is not JSON: \(error)")
            }
            let existed = try await listed(catalog).contains { $0.name == name }
            do {
                let entry = try await catalog.store(name: name, definition: definition)
                var response = HTTPResponse.json(entry.detailJSON, status: existed ? .ok : .created)
                response.headers["Location"] = "/v1/workflows/\(name)"
                return response
            } catch let error as WorkflowParseError {
                throw HTTPError(.unprocessableContent, "not a workflow: \(error.message)")
            } catch let error as WorkflowCatalog.CatalogError {
                throw HTTPError(.unprocessableContent, "\(error)")
            }
        })
        router.add(.DELETE, "/v1/workflows/{name}/definition", .async { request in
            let entry = try await named(request, catalog)
            do {
                try catalog.remove(entry)
            } catch let error as WorkflowCatalog.CatalogError {
                throw HTTPError(.conflict, "\(error)")
            }
            return HTTPResponse(status: .noContent)
        })
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
