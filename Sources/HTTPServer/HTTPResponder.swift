/// What turns a request into a response. Immediate answers are produced on the event loop
/// (no task hop: cheap routes such as health checks and static files); deferred ones run as a task.
public protocol HTTPResponder: Sendable {
    func respond(to request: HTTPRequest) -> HTTPResponderResult
}

public enum HTTPResponderResult: Sendable {
    case now(HTTPResponse)
    case later(@Sendable () async -> HTTPResponse)
}
