/// What each route needs, in one place: every route the gateway serves is here (the router
/// refuses to add one that is not), and a test holds the table to the served routes.
///
/// Open: liveness and readiness (probes carry no keys), the API contract (public: it says how
/// to authenticate), and the status page's static files (they hold no data; the page calls the
/// API with a key). `/metrics` counts every tenant's activity: admin.
public enum AccessTable {
    public enum Requirement: Sendable, Equatable {
        case open
        case scope(Scope)
    }

    public static let routes: [String: Requirement] = [
        "GET /healthz": .open,
        "GET /readyz": .open,
        "GET /openapi.json": .open,
        // What each problem document's `type` means: public, like the contract.
        "GET /problems/{slug}": .open,
        "GET /metrics": .scope(.admin),
        "GET /v1/workflows": .scope(.read),
        "GET /v1/workflows/{name}": .scope(.read),
        "GET /v1/workflows/{name}/schema": .scope(.read),
        "GET /v1/workflows/{name}/definition": .scope(.read),
        "PUT /v1/workflows/{name}/definition": .scope(.admin),
        "DELETE /v1/workflows/{name}/definition": .scope(.admin),
        "POST /v1/workflows/{name}/runs": .scope(.run),
        "GET /v1/runs": .scope(.read),
        "GET /v1/runs/{id}": .scope(.read),
        "DELETE /v1/runs/{id}": .scope(.run),
        // Deleting a run's own outputs is what DELETE /v1/images does for each of them.
        "DELETE /v1/runs/{id}/outputs": .scope(.run),
        "GET /v1/runs/{id}/events": .scope(.read),
        "GET /v1/events": .scope(.read),
        "POST /v1/images": .scope(.run),
        "GET /v1/images/{name}": .scope(.read),
        "GET /v1/images/{name}/thumbnail": .scope(.read),
        "DELETE /v1/images/{name}": .scope(.run),
        "GET /v1/boards": .scope(.admin),
        "GET /v1/models": .scope(.read),
        "GET /v1/queue": .scope(.admin),
    ]

    /// Static files (the router's fallback for GET and HEAD).
    public static let staticFiles = Requirement.open
}
