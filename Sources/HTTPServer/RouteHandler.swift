/// A route's code: synchronous handlers run on the event loop and must not block;
/// asynchronous ones run as a task and may await (upstream calls, waiting for runs).
public enum RouteHandler: Sendable {
    case sync(@Sendable (HTTPRequest) throws -> HTTPResponse)
    case async(@Sendable (HTTPRequest) async throws -> HTTPResponse)
}
