import HTTPCore

/// A response as a handler builds it. The server adds framing (Content-Length or chunked),
/// `Date`, `Server` and `Connection`.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        /// A body produced over time (server-sent events, proxied downloads). The producer writes
        /// to the writer and returns when done; the server then ends the body. Without a
        /// Content-Length header it is sent chunked (HTTP/1.1) or closed at the end (HTTP/1.0).
        case stream(@Sendable (HTTPResponseWriter) async -> Void)
    }

    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: Body
    /// Route, caller and reason for the access line; not sent.
    public var notes = HTTPAccessNotes()

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), bytes: [UInt8]) {
        self.init(status: status, headers: headers, body: .bytes(bytes))
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], bytes: Array(text.utf8))
    }

    /// A streamed response; see `Body.stream`.
    public static func stream(
        status: HTTPStatus = .ok,
        headers: HTTPHeaders = HTTPHeaders(),
        _ producer: @escaping @Sendable (HTTPResponseWriter) async -> Void
    ) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers, body: .stream(producer))
    }
}
