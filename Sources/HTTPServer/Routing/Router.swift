import HTTPCore

/// Dispatches by method and path pattern. Unknown paths get 404 (or the fallback, for GET and
/// HEAD), known paths with another method 405 with `Allow`; HEAD is served by GET routes.
/// Build it fully before the server starts: it is a value and is copied into the server.
public struct Router: HTTPResponder {
    private struct Route: Sendable {
        let method: HTTPMethod
        let pattern: RoutePattern
        let handler: RouteHandler
    }

    private var routes: [Route] = []
    /// Serves GET and HEAD requests no route matched (the static files).
    public var fallback: RouteHandler?
    /// Turns errors a handler throws into answers, in one place (the application's own error
    /// types, e.g. its upstream's failures as 502/503/504); nil for errors it does not know.
    public var errorMapper: (@Sendable (any Error) -> HTTPError?)?

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: RouteHandler) {
        routes.append(Route(method: method, pattern: RoutePattern(pattern), handler: handler))
    }

    /// Every route as `METHOD /path/{parameter}`, in the order added (to check a contract).
    public var routeList: [String] { routes.map { "\($0.method) \($0.pattern.text)" } }

    public func respond(to request: HTTPRequest) -> HTTPResponderResult {
        let path = request.path
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var allowed: [HTTPMethod] = []
        var matched: String?
        for route in routes {
            guard let parameters = route.pattern.match(Array(segments)) else { continue }
            if route.method == request.method || (request.method == .HEAD && route.method == .GET) {
                var routed = request
                routed.pathParameters = parameters
                return Self.noting(route.pattern.text, run(route.handler, routed))
            }
            allowed.append(route.method)
            matched = matched ?? route.pattern.text
        }
        if allowed.isEmpty {
            if let fallback, request.method == .GET || request.method == .HEAD {
                return Self.noting("static", run(fallback, request))
            }
            return Self.noting(
                "unmatched", .now(HTTPError(.notFound, "no resource at \(path)").response(instance: path)))
        }
        if allowed.contains(.GET) { allowed.append(.HEAD) }
        let allow = allowed.map(\.rawValue).joined(separator: ", ")
        if request.method == .OPTIONS {
            return Self.noting(
                matched ?? "unmatched", .now(HTTPResponse(status: .noContent, headers: ["Allow": allow + ", OPTIONS"])))
        }
        return Self.noting(
            matched ?? "unmatched",
            .now(
                HTTPError(
                    .methodNotAllowed, "\(request.method) is not allowed on \(path); allowed: \(allow)",
                    headers: ["Allow": allow]
                ).response(instance: path)))
    }

    /// The route's pattern on the response, for the access line (bounded: never the raw path).
    private static func noting(_ route: String, _ result: HTTPResponderResult) -> HTTPResponderResult {
        switch result {
        case .now(var response):
            response.notes.route = route
            return .now(response)
        case .later(let body):
            return .later {
                var response = await body()
                response.notes.route = route
                return response
            }
        }
    }

    private func run(_ handler: RouteHandler, _ request: HTTPRequest) -> HTTPResponderResult {
        let mapper = errorMapper
        switch handler {
        case .sync(let body):
            do { return .now(try body(request)) } catch { return .now(Self.errorResponse(error, request, mapper)) }
        case .async(let body):
            return .later {
                do { return try await body(request) } catch { return Self.errorResponse(error, request, mapper) }
            }
        case .either(let now, let later):
            do {
                if let response = try now(request) { return .now(response) }
            } catch {
                return .now(Self.errorResponse(error, request, mapper))
            }
            return run(.async(later), request)
        }
    }

    /// HTTPError answers as itself, an error the mapper knows as it says; anything else is a
    /// defect on our side: 500 with its text.
    static func errorResponse(
        _ error: Error, _ request: HTTPRequest, _ mapper: (@Sendable (any Error) -> HTTPError?)? = nil
    ) -> HTTPResponse {
        if let attributed = error as? HTTPAttributedError {
            var response = errorResponse(attributed.underlying, request, mapper)
            response.notes.user = attributed.user
            return response
        }
        if let httpError = error as? HTTPError { return httpError.response(instance: request.path) }
        if let mapped = mapper?(error) { return mapped.response(instance: request.path) }
        return HTTPError(.internalServerError, "internal error: \(error)").response(instance: request.path)
    }
}

/// A route's code: synchronous handlers run on the event loop and must not block;
/// asynchronous ones run as a task and may await (upstream calls, waiting for runs).
public enum RouteHandler: Sendable {
    case sync(@Sendable (HTTPRequest) throws -> HTTPResponse)
    case async(@Sendable (HTTPRequest) async throws -> HTTPResponse)
    /// The first answers on the event loop when the answer is at hand (prepared bytes) and
    /// gives nil when it is not; then the second runs as a task. The first must not block.
    case either(
        now: @Sendable (HTTPRequest) throws -> HTTPResponse?,
        later: @Sendable (HTTPRequest) async throws -> HTTPResponse)
}

/// What turns a request into a response. Immediate answers are produced on the event loop
/// (no task hop: cheap routes such as health checks and static files); deferred ones run as a task.
public protocol HTTPResponder: Sendable {
    func respond(to request: HTTPRequest) -> HTTPResponderResult
}

public enum HTTPResponderResult: Sendable {
    case now(HTTPResponse)
    case later(@Sendable () async -> HTTPResponse)
}
