import Foundation
import HTTPServer

/// `GET /v1/events`: every event of this gateway, filtered by `run`, `workflow` and `type`
/// (each repeatable or comma-separated), resumable with `Last-Event-ID` or `?last_event_id=`.
enum EventRoutes {
    static func add(to router: inout AccessRouter, hub: EventHub, cors: CORSPolicy) {
        router.add(
            .GET, "/v1/events",
            .sync { request, caller in
                var filter = filter(from: request)
                // A tenant's stream carries its own runs' events (and the gateway-wide ones).
                filter.owner = caller.ownerFilter
                return try EventStreamResponse.make(
                    hub: hub, filter: filter, after: try lastEventID(of: request),
                    extraHeaders: cors.headers(for: request))
            })
    }

    /// The filter a request's query asks for.
    static func filter(from request: HTTPRequest) -> EventFilter {
        func list(_ name: String) -> Set<String> {
            Set(
                request.queryItems.filter { $0.name == name }
                    .flatMap { $0.value.split(separator: ",") }
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty })
        }
        let previews = request.query("previews").map { ["1", "true", "yes"].contains($0.lowercased()) } ?? false
        return EventFilter(runs: list("run"), workflows: list("workflow"), types: list("type"), previews: previews)
    }

    /// `Last-Event-ID` (what EventSource sends on reconnect) wins over `?last_event_id=`.
    static func lastEventID(of request: HTTPRequest) throws -> EventID? {
        guard let text = request.headers["Last-Event-ID"] ?? request.query("last_event_id"), !text.isEmpty else {
            return nil
        }
        guard let id = EventID(text) else {
            throw HTTPError(
                .badRequest, "Last-Event-ID '\(text)' is not an event id of this gateway (<epoch>-<sequence>)")
        }
        return id
    }
}
