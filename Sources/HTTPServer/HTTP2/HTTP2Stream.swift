import HTTPCore

/// One HTTP/2 stream of an `HTTP2Connection`: the request as its frames arrive, then the
/// response body waiting to be framed. Its lifecycle is `machine`; this object holds the bytes
/// and the resources (writer, task). Touched only on the connection's event loop.
final class HTTP2Stream {
    let id: Int32
    var machine: HTTP2StreamStateMachine

    // MARK: request
    var method: String?
    var path: String?
    /// `:authority`, offered to routes as `Host` when no Host field came.
    var authority: String?
    var headers = HTTPHeaders()
    var trailers = HTTPHeaders()
    /// h2 may split Cookie into several fields; HTTP/1 semantics want one (RFC 9113 §8.2.3).
    var cookies: [String] = []
    var body: [UInt8] = []

    // MARK: response
    var isHeadRequest: Bool { method == "HEAD" }
    /// Body bytes not yet taken by nghttp2 into DATA frames.
    var pending: [UInt8] = []
    var pendingOffset = 0
    var writer: HTTPResponseWriter?
    /// The responder's async work or the stream's producer.
    var task: Task<Void, Never>?
    /// For the access record: set when the request is dispatched, kept while a body streams.
    var access: HTTPAccessStart?

    init(id: Int32, machine: HTTP2StreamStateMachine) {
        self.id = id
        self.machine = machine
    }

    var pendingCount: Int { pending.count - pendingOffset }
}
