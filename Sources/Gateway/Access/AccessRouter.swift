import HTTPCore
import HTTPServer

/// The router every gateway route is added through: each handler is wrapped with the check of
/// its route's requirement (`AccessTable`) and given the resolved caller.
struct AccessRouter {
    var router = Router()
    let policy: AccessPolicy

    init(policy: AccessPolicy) { self.policy = policy }

    /// A route's code, given the caller; see `RouteHandler`.
    enum Handler: Sendable {
        case sync(@Sendable (HTTPRequest, Caller) throws -> HTTPResponse)
        case async(@Sendable (HTTPRequest, Caller) async throws -> HTTPResponse)
        case either(
            now: @Sendable (HTTPRequest, Caller) throws -> HTTPResponse?,
            later: @Sendable (HTTPRequest, Caller) async throws -> HTTPResponse)
    }

    mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: Handler) {
        guard let requirement = AccessTable.routes["\(method) \(pattern)"] else {
            preconditionFailure("\(method) \(pattern) has no entry in AccessTable")
        }
        let policy = policy
        let openCaller: Caller = policy.keyRing == nil ? .anonymous : .nobody
        let resolve: @Sendable (HTTPRequest) throws -> Caller = { request in
            switch requirement {
            case .open: return openCaller
            case .scope(let scope): return try policy.caller(of: request, needing: scope)
            }
        }
        switch handler {
        case .sync(let body):
            router.add(method, pattern, .sync { request in try body(request, try resolve(request)) })
        case .async(let body):
            router.add(method, pattern, .async { request in try await body(request, try resolve(request)) })
        case .either(let now, let later):
            router.add(
                method, pattern,
                .either(
                    now: { request in try now(request, try resolve(request)) },
                    later: { request in try await later(request, try resolve(request)) }))
        }
    }
}
