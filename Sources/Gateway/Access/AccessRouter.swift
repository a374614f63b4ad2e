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
            router.add(
                method, pattern,
                .sync { request in
                    let caller = try resolve(request)
                    do { return Self.noting(caller, try body(request, caller)) } catch {
                        throw Self.attributed(error, caller)
                    }
                })
        case .async(let body):
            router.add(
                method, pattern,
                .async { request in
                    let caller = try resolve(request)
                    do { return Self.noting(caller, try await body(request, caller)) } catch {
                        throw Self.attributed(error, caller)
                    }
                })
        case .either(let now, let later):
            router.add(
                method, pattern,
                .either(
                    now: { request in
                        let caller = try resolve(request)
                        do { return try now(request, caller).map { Self.noting(caller, $0) } } catch {
                            throw Self.attributed(error, caller)
                        }
                    },
                    later: { request in
                        let caller = try resolve(request)
                        do { return Self.noting(caller, try await later(request, caller)) } catch {
                            throw Self.attributed(error, caller)
                        }
                    }))
        }
    }

    /// The caller's key name on the answer, for the access line.
    private static func noting(_ caller: Caller, _ response: HTTPResponse) -> HTTPResponse {
        guard let name = caller.keyName else { return response }
        var response = response
        response.notes.user = name
        return response
    }

    private static func attributed(_ error: any Error, _ caller: Caller) -> any Error {
        guard let name = caller.keyName else { return error }
        return HTTPAttributedError(error, user: name)
    }
}
