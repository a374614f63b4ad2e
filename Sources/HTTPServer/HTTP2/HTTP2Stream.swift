import HTTPCore

/// One HTTP/2 stream of an `HTTP2Connection`: the request as its frames arrive, then the
/// response body waiting to be framed. Touched only on the connection's event loop.
final class HTTP2Stream {
    let id: Int32

    // MARK: request
    var method: String?
    var path: String?
    /// `:authority`, offered to routes as `Host` when no Host field came.
    var authority: String?
    var headers = HTTPHeaders()
    var trailers = HTTPHeaders()
    /// h2 may split Cookie into several fields; HTTP/1 semantics want one (RFC 9113 §8.2.3).
    var cookies: [String] = []
    /// Header list size as RFC 9113 §6.5.2 counts it (name + value + 32 per field), trailers included.
    var headerListSize = 0
    var headerCount = 0
    var headersComplete = false
    var body: [UInt8] = []
    /// The client has sent END_STREAM.
    var requestComplete = false
    /// Why the request will be refused (431, 413, 408), decided while it arrives.
    var rejection: HTTPParseError?
    /// After a refusal, request body bytes still taken (and thrown away) so that the client can
    /// finish sending and read the answer; beyond this the stream is reset (as HTTP/1.1 lingers).
    var discardLimit = 0
    var discarded = 0
    /// RST_STREAM(NO_ERROR) was submitted to stop an upload that is no longer wanted.
    var resetSent = false
    /// When the stream began or last received a DATA frame (for the header and body timeouts).
    var lastProgress: UInt64

    // MARK: response
    var responded = false
    var isHeadRequest: Bool { method == "HEAD" }
    /// Body bytes not yet taken by nghttp2 into DATA frames.
    var pending: [UInt8] = []
    var pendingOffset = 0
    /// No more body bytes will be added to `pending`.
    var ended = false
    /// A declared Content-Length still owed by a streamed body.
    var bytesRemaining: Int?
    /// nghttp2 was told NGHTTP2_ERR_DEFERRED and waits for `nghttp2_session_resume_data`.
    var deferred = false
    var writer: HTTPResponseWriter?
    /// The responder's async work or the stream's producer.
    var task: Task<Void, Never>?

    init(id: Int32, now: UInt64) {
        self.id = id
        lastProgress = now
    }

    var pendingCount: Int { pending.count - pendingOffset }
}
