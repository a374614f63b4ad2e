import HTTPCore

/// The lifecycle of one HTTP/2 stream as the server sees it, without nghttp2 or sockets: the
/// request arriving (header block, body, END_STREAM), the decision to refuse, dispatch or time
/// it out, and the response body being framed. Pure: time comes in as `now` (monotonic
/// nanoseconds), so every transition is tested without a connection. nghttp2 keeps the
/// protocol's own stream states (RFC 9113 §5.1); this is what the server adds on top.
/// `HTTP2Connection` feeds it what its callbacks see and performs the actions it returns.
///
/// ```
/// request:  headers ─block complete─▶ body ─END_STREAM─▶ complete
///              └──────────END_STREAM on HEADERS──────────────▲
///           (headers | body) ─RST_STREAM(NO_ERROR) sent─▶ stopped
/// response: none ─limit exceeded─▶ refusing ─advance─▶ answered
///           none ─complete─▶ accepted (queued or with the responder) ─▶ answered
///           none ─body timeout─▶ answered (408)
/// body:     sending ⇄ waitingForBytes (nghttp2 deferred) ─end─▶ ended
/// ```
struct HTTP2StreamStateMachine {
    enum Request: Equatable {
        /// HEADERS began; the header block is not complete.
        case headers(lastProgress: UInt64)
        /// The header block is complete; DATA (and trailers) follow until END_STREAM.
        case body(lastProgress: UInt64)
        /// END_STREAM received.
        case complete
        /// The rest of the upload was declined (RST_STREAM(NO_ERROR) submitted).
        case stopped
    }

    enum Response: Equatable {
        /// Nothing decided yet.
        case none
        /// To be refused with this error (431, 413) once the frame that decided it is processed.
        case refusing(HTTPParseError)
        /// Complete and taken by the connection: waiting for budget or with the responder.
        case accepted
        /// The response HEADERS were submitted.
        case answered(Body)
    }

    enum Body: Equatable {
        /// No DATA frames (HEAD, 204, an empty body).
        case headersOnly
        /// Body bytes may still be added; `remaining`: a declared Content-Length still owed.
        case sending(remaining: Int?)
        /// Like `sending`, but nghttp2 was told to wait (NGHTTP2_ERR_DEFERRED) and must be resumed.
        case waitingForBytes(remaining: Int?)
        /// No more body bytes will be added.
        case ended
    }

    /// Body bytes of a refused upload still read and thrown away, at least (see `discardLimit`).
    static let minimumDiscardLimit = 1 << 20

    let limits: HTTPRequestLimits
    private(set) var request: Request
    private(set) var response: Response = .none
    /// Header list size as RFC 9113 §6.5.2 counts it (name + value + 32 per field), trailers included.
    private(set) var headerListSize = 0
    private(set) var headerCount = 0
    /// After a refusal, request body bytes still taken (and thrown away) so that the client can
    /// finish sending and read the answer; beyond this the stream is reset (as HTTP/1.1 lingers).
    private(set) var discardLimit = 0
    private(set) var discarded = 0
    /// When the request's first frame arrived: the whole body's deadline counts from here.
    let startedAt: UInt64

    init(limits: HTTPRequestLimits, now: UInt64) {
        self.limits = limits
        request = .headers(lastProgress: now)
        startedAt = now
    }

    /// Stream 1 of an `Upgrade: h2c`: its request arrived over HTTP/1.1, complete.
    static func upgraded(limits: HTTPRequestLimits) -> HTTP2StreamStateMachine {
        var machine = HTTP2StreamStateMachine(limits: limits, now: 0)
        machine.request = .complete
        return machine
    }

    // MARK: queries

    var isAnswered: Bool { if case .answered = response { true } else { false } }

    var isRequestComplete: Bool { request == .complete }

    /// A body being framed that has not ended.
    var isBodyOpen: Bool {
        switch response {
        case .answered(.sending), .answered(.waitingForBytes): true
        default: false
        }
    }

    // MARK: the request arriving

    enum FieldAction: Equatable {
        /// Over the limits, or the request is refused anyway: decode (HPACK must stay in sync) but keep nothing.
        case ignore
        case header
        case trailer
    }

    /// A header or trailer field of `size` bytes (name + value) arrived.
    mutating func fieldReceived(size: Int) -> FieldAction {
        headerListSize += size + 32
        headerCount += 1
        if headerListSize > limits.maxHeaderBytes || headerCount > limits.maxHeaderCount {
            if response == .none {
                response = .refusing(
                    HTTPParseError(
                        .headersTooLarge,
                        "the header list exceeds \(limits.maxHeaderBytes) bytes or \(limits.maxHeaderCount) fields"))
            }
            return .ignore
        }
        switch (request, response) {
        case (.headers, .none): return .header
        case (.body, .none): return .trailer
        default: return .ignore
        }
    }

    /// A HEADERS frame (header block or trailers) was received complete. `declaredLength`: the
    /// request's Content-Length, read when the header block completes.
    mutating func headersReceived(declaredLength: Int?, endStream: Bool, now: UInt64) {
        if case .headers = request {
            if response == .none, let declaredLength, declaredLength > limits.maxBodyBytes {
                response = .refusing(tooLarge)
            }
        }
        frameReceived(endStream: endStream, now: now)
    }

    /// Whether the header block is still arriving (the next HEADERS frame completes it).
    var awaitsHeaderBlock: Bool { if case .headers = request { true } else { false } }

    /// A DATA frame was received complete.
    mutating func dataFrameReceived(endStream: Bool, now: UInt64) {
        frameReceived(endStream: endStream, now: now)
    }

    private mutating func frameReceived(endStream: Bool, now: UInt64) {
        if endStream {
            request = .complete
            return
        }
        switch request {
        case .headers, .body: request = .body(lastProgress: now)
        case .complete, .stopped: break
        }
    }

    enum DataAction: Equatable {
        /// Keep the bytes as request body (and give the stream window back).
        case append
        /// The request is refused: throw the bytes away, give the window back, clear the body.
        case rejectBody
        /// Refused or answered already: throw away, but give the window back (within the limit).
        case discard
        /// Past the discard limit: stop the upload.
        case stopUpload
    }

    /// `length` body bytes arrived; `bodyCount` are already kept.
    mutating func dataReceived(length: Int, bodyCount: Int) -> DataAction {
        switch response {
        case .refusing, .answered:
            discarded += length
            return discarded <= discardLimit ? .discard : .stopUpload
        case .none, .accepted:
            if bodyCount + length > limits.maxBodyBytes {
                response = .refusing(tooLarge)
                discarded = length
                return .rejectBody
            }
            return .append
        }
    }

    private var tooLarge: HTTPParseError {
        HTTPParseError(.contentTooLarge, "the request body exceeds \(limits.maxBodyBytes) bytes")
    }

    enum AdvanceAction: Equatable {
        case none
        /// Answer with this error (the rest of the upload is discarded up to the limit).
        case refuse(HTTPParseError)
        /// The request is complete: hand it to the responder (or queue it).
        case dispatch
    }

    /// After a frame of the stream was processed: refuse it, dispatch it, or wait for more.
    mutating func advance() -> AdvanceAction {
        switch response {
        case .answered, .accepted:
            return .none
        case .refusing(let error):
            discardLimit = max(limits.maxBodyBytes, Self.minimumDiscardLimit)
            return .refuse(error)
        case .none:
            guard request == .complete else { return .none }
            response = .accepted
            return .dispatch
        }
    }

    // MARK: the response

    enum AnswerBody: Equatable {
        case headersOnly
        /// All the body's bytes are known.
        case bytes
        /// Produced later; `declaredLength`: the handler's Content-Length, if any.
        case stream(declaredLength: Int?)
    }

    /// The response HEADERS are being submitted; false when the stream was answered already (a
    /// late response after a 408): the caller drops it.
    mutating func answer(_ body: AnswerBody) -> Bool {
        guard !isAnswered else { return false }
        switch body {
        case .headersOnly: response = .answered(.headersOnly)
        case .bytes: response = .answered(.ended)
        case .stream(let declared): response = .answered(.sending(remaining: declared))
        }
        return true
    }

    enum WriteAction: Equatable {
        /// The body ended (or never was streamed): drop the bytes.
        case drop
        /// Queue the first `count` bytes (never more than declared); resume nghttp2 if `resume`.
        case queue(count: Int, resume: Bool)
    }

    /// The producer wrote `count` body bytes.
    mutating func bodyWritten(count: Int) -> WriteAction {
        let (remaining, wasWaiting): (Int?, Bool)
        switch response {
        case .answered(.sending(let r)): (remaining, wasWaiting) = (r, false)
        case .answered(.waitingForBytes(let r)): (remaining, wasWaiting) = (r, true)
        default: return .drop
        }
        // Never more than announced: the client would treat it as a malformed response.
        let allowed = remaining.map { min(count, $0) } ?? count
        response = .answered(.sending(remaining: remaining.map { $0 - allowed }))
        return .queue(count: allowed, resume: wasWaiting)
    }

    enum EndAction: Equatable {
        case ignore
        /// The body is complete: resume nghttp2 if `resume` so it sends END_STREAM.
        case finish(resume: Bool)
        /// Shorter than announced: reset the stream so the client knows the body is incomplete.
        case reset
    }

    /// The producer returned.
    mutating func bodyEnded() -> EndAction {
        let (remaining, wasWaiting): (Int?, Bool)
        switch response {
        case .answered(.sending(let r)): (remaining, wasWaiting) = (r, false)
        case .answered(.waitingForBytes(let r)): (remaining, wasWaiting) = (r, true)
        default: return .ignore
        }
        response = .answered(.ended)
        if let remaining, remaining > 0 { return .reset }
        return .finish(resume: wasWaiting)
    }

    /// Graceful shutdown ends an open body as it is (an event stream has no length); true when
    /// nghttp2 must be resumed to send END_STREAM.
    mutating func bodyEndedForShutdown() -> Bool {
        let wasWaiting: Bool
        switch response {
        case .answered(.sending): wasWaiting = false
        case .answered(.waitingForBytes): wasWaiting = true
        default: return false
        }
        response = .answered(.ended)
        return wasWaiting
    }

    enum ReadAction: Equatable {
        /// Send the bytes copied.
        case data
        /// Send them with END_STREAM.
        case endOfBody
        /// Nothing to send yet: tell nghttp2 to wait (NGHTTP2_ERR_DEFERRED).
        case deferred
    }

    /// nghttp2 took `count` body bytes into a DATA frame, leaving `pendingAfter` buffered.
    mutating func bodyRead(count: Int, pendingAfter: Int) -> ReadAction {
        guard pendingAfter == 0 else { return .data }
        switch response {
        case .answered(.ended):
            return .endOfBody
        case .answered(.sending(let remaining)) where count == 0:
            // An open-ended stream (SSE) with nothing to say: resumed by `bodyWritten`.
            response = .answered(.waitingForBytes(remaining: remaining))
            return .deferred
        default:
            return .data
        }
    }

    /// The stream's last frame (END_STREAM) was sent; true when the upload, still going, must be
    /// stopped now: a refused upload may go on up to its discard limit (clients such as curl
    /// 7.88 read no answer that a reset follows while they send), anything else (408) stops.
    func finalFrameSent() -> Bool {
        switch request {
        case .headers, .body: discarded >= discardLimit
        case .complete, .stopped: false
        }
    }

    /// RST_STREAM(NO_ERROR) is to be sent: the answer is out, the rest of the request is not
    /// wanted (RFC 9113 §8.1). False when it was sent already or the request is complete.
    mutating func stopUpload() -> Bool {
        switch request {
        case .headers, .body:
            request = .stopped
            return true
        case .complete, .stopped:
            return false
        }
    }

    // MARK: timeouts

    enum TimeoutAction: Equatable {
        case none
        /// A header block left open (no CONTINUATION) blocks every stream of the connection,
        /// and nothing can be answered on it: end the connection.
        case terminateConnection
        /// No body bytes for the body timeout: answer 408 (the upload is reset once the answer is out).
        case refuse
        /// The body is not complete at its total deadline (bytes trickling in): 408 likewise.
        case refuseDeadline
        /// Refused while the client was still sending, and it went quiet: stop waiting for it.
        case stopUpload
    }

    /// Called about once a second with the connection's header and body timeouts (nanoseconds);
    /// `bodyTotal`: the longest time for the whole request, from its first frame.
    mutating func checkTimeout(now: UInt64, header: UInt64, body: UInt64, bodyTotal: UInt64 = .max) -> TimeoutAction {
        switch (request, response) {
        case (.headers(let lastProgress), .none):
            return elapsed(lastProgress, now) > header ? .terminateConnection : .none
        case (.body(let lastProgress), .none):
            let stalled = elapsed(lastProgress, now) > body
            guard stalled || elapsed(startedAt, now) > bodyTotal else { return .none }
            // The stop timer starts again from the answer.
            request = .body(lastProgress: now)
            return stalled ? .refuse : .refuseDeadline
        case (.headers(let lastProgress), .answered), (.body(let lastProgress), .answered):
            return elapsed(lastProgress, now) > body ? .stopUpload : .none
        default:
            return .none
        }
    }

    /// Time from `start` to `now`; 0 if `start` is later (set after the tick read the clock).
    private func elapsed(_ start: UInt64, _ now: UInt64) -> UInt64 { now >= start ? now - start : 0 }
}
