import Foundation
import HTTPCore
import HTTPServer
import InvokeAI
import JSONValue

/// `/v1/runs`: list, read, cancel, and follow runs.
enum RunRoutes {
    static func add(
        to router: inout AccessRouter, tracker: RunTracker, hub: EventHub, client: InvokeAIClient, cors: CORSPolicy
    ) {
        router.add(
            .GET, "/v1/runs",
            .sync { request, caller in
                let status = try request.query("status").map { text -> RunStatus in
                    guard let status = RunStatus(rawValue: text) else {
                        throw HTTPError(
                            .badRequest,
                            "status must be one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    return status
                }
                let limit = try boundedInt(request.query("limit"), name: "limit", default: 50, range: 1...500)
                let offset = try boundedInt(request.query("offset"), name: "offset", default: 0, range: 0...Int.max)
                return json(
                    tracker.runsPageJSON(
                        workflow: request.query("workflow"), status: status, owner: caller.ownerFilter, offset: offset,
                        limit: limit))
            })
        router.add(
            .GET, "/v1/runs/{id}",
            .async { request, caller in
                let run = try await run(request, tracker, caller)
                // `Accept: image/*`: the run's single image, or 406 (`RunRepresentation`).
                var response =
                    try await RunRepresentation(request).answer(run, client: client, tracker: tracker) ?? json(run)
                response.headers["Vary"] = "Accept"
                return response
            })
        router.add(
            .DELETE, "/v1/runs/{id}",
            .async { request, caller in
                let run = try await run(request, tracker, caller)
                guard !run.status.isTerminal else {
                    throw HTTPError(
                        .conflict, "run \(run.id) has already ended (\(run.status.rawValue))", type: .runStateConflict)
                }
                try await tracker.cancel(run.id)
                return json(tracker.run(run.id) ?? run, status: .accepted)
            })
        router.add(
            .DELETE, "/v1/runs/{id}/outputs",
            .async { request, caller in
                let run = try await run(request, tracker, caller)
                guard run.status.isTerminal else {
                    throw HTTPError(
                        .conflict, "run \(run.id) has not ended (\(run.status.rawValue)); cancel it first",
                        type: .runStateConflict)
                }
                return json(await tracker.deleteOutputs(of: run.id) ?? run)
            })
        router.add(
            .GET, "/v1/runs/{id}/events",
            .async { request, caller in
                let run = try await run(request, tracker, caller)
                var filter = EventRoutes.filter(from: request)
                filter.runs = [run.id]
                let after = try EventRoutes.lastEventID(of: request)
                if run.status.isTerminal {
                    return EventStreamResponse.replay(
                        hub: hub, run: run, filter: filter, after: after, extraHeaders: cors.headers(for: request))
                }
                return try EventStreamResponse.make(
                    hub: hub, filter: filter, after: after, endAfter: run.id,
                    extraHeaders: cors.headers(for: request))
            })
    }

    /// A run as JSON, written as the runs list writes it.
    private static func json(_ run: Run, status: HTTPStatus = .ok) -> HTTPResponse {
        json(run.json.compactJSONBytes, status: status)
    }

    private static func json(_ bytes: [UInt8], status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], bytes: bytes)
    }

    /// The run from the tracker's table, else from InvokeAI's record (an older run). Another
    /// tenant's run is not found either (404, not 403: ids must not tell that they exist).
    private static func run(_ request: HTTPRequest, _ tracker: RunTracker, _ caller: Caller) async throws -> Run {
        let id = request.pathParameters["id"] ?? ""
        guard let run = try await tracker.lookup(id), caller.mayAccess(owner: run.owner) else {
            throw HTTPError(.notFound, "no run \(id) made by this gateway")
        }
        return run
    }

    static func boundedInt(_ text: String?, name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int
    {
        guard let text else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw HTTPError(
                .badRequest,
                "\(name) must be an integer in \(range.lowerBound)...\(range.upperBound == Int.max ? "" : String(range.upperBound))"
            )
        }
        return value
    }
}
