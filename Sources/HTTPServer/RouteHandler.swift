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
