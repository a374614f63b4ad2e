import HTTPCore

/// The lifecycle of one HTTP/1.x connection, without its socket: what state it is in, and what
/// the connection must do when something happens. Pure: no I/O and no clock (every event that
/// depends on time is given `now`, monotonic nanoseconds), so every transition is tested
/// without sockets. `HTTPConnection` feeds it events and performs the actions it returns.
///
/// ```
/// awaitingRequest ─bytes─▶ readingHead ─head with body─▶ readingBody
///        ▲                      │ request                    │ request
///        │                      ▼                            ▼
///        ├──keep-alive──── responding ◀──────────────────────┘
///        │                  │      │ streamed body
///        │                  │      ▼
///        └──keep-alive───── │ ── streaming
///                           ▼      │ (end, no keep-alive, shutdown)
///                        closing ◀─┘ ─output drained─▶ lingering ─EOF or deadline─▶ closed
/// ```
/// Beside the state, two facts that outlive any one state: the client closed its side
/// (`peerClosed`: nothing more to read, no next request) and the server is shutting down.
/// Events that cannot happen in a state (a decoded request while responding) are programming
/// errors: they stop debug builds and are ignored in release builds.
struct HTTPConnectionStateMachine {
    /// How long each phase may last, in nanoseconds.
    struct Timeouts: Equatable {
        var idle: UInt64
        var header: UInt64
        /// Longest stall between body bytes.
        var body: UInt64
        /// Longest time for a whole body, however steadily it trickles in.
        var bodyTotal: UInt64 = .max
        var write: UInt64
        /// How long a closing connection drains the client before it closes anyway.
        var linger: UInt64 = 2_000_000_000
    }

    /// The request being answered, as far as its response depends on it.
    struct Exchange: Equatable {
        var isHead: Bool
        var version: HTTPVersion
        /// Whether the connection stays open after this response.
        var keepAlive: Bool
    }

    /// A response body being produced after its head was sent.
    struct Stream: Equatable {
        var framing: HTTPResponseEncoder.Framing
        /// A declared Content-Length still owed.
        var remaining: Int?
        /// Body bytes queued since the output buffer was last empty (reported to the writer
        /// once the socket took them).
        var unflushed = 0
    }

    enum State: Equatable {
        /// Keep-alive: no byte of the next request yet.
        case awaitingRequest(since: UInt64)
        /// Part of a request head has arrived; it must complete within the header timeout.
        case readingHead(since: UInt64)
        /// `since`: when the body began (the total deadline); `lastProgress`: the last byte (stalls).
        case readingBody(since: UInt64, lastProgress: UInt64)
        /// The responder is working on a request.
        case responding(Exchange)
        /// A streamed body is being produced.
        case streaming(Exchange, Stream)
        /// Sending what is queued, then closing.
        case closing
        /// Output done and our side shut: draining what the client still sends so the response
        /// is not destroyed by a reset, until EOF or the deadline.
        case lingering(until: UInt64)
        /// Closed, or handed to HTTP/2.
        case closed
    }

    let timeouts: Timeouts
    private(set) var state: State
    /// The client closed its sending side.
    private(set) var peerClosed = false
    private(set) var shuttingDown = false

    init(timeouts: Timeouts, now: UInt64) {
        self.timeouts = timeouts
        state = .awaitingRequest(since: now)
    }

    // MARK: queries

    var isClosed: Bool { state == .closed }

    var isReadingRequest: Bool {
        switch state {
        case .awaitingRequest, .readingHead, .readingBody: true
        default: false
        }
    }

    var isStreaming: Bool { if case .streaming = state { true } else { false } }

    var isLingering: Bool { if case .lingering = state { true } else { false } }

    /// An `Upgrade: h2c` request is honoured only while the server is not shutting down.
    var acceptsUpgrade: Bool { !shuttingDown }

    /// Which input to watch: reads while a request is expected (or read ahead, up to `limit`
    /// buffered bytes, while one is answered); the hang-up alone while a response is pending, so a
    /// client that leaves is noticed; nothing once the client closed its side.
    enum InputInterest: Equatable {
        case none
        case hangUp
        case readAndHangUp
    }

    func inputInterest(bufferedInput: Int, readAheadLimit: Int) -> InputInterest {
        guard !peerClosed else { return .none }
        switch state {
        case .awaitingRequest, .readingHead, .readingBody, .lingering:
            return .readAndHangUp
        case .responding, .streaming:
            return bufferedInput < readAheadLimit ? .readAndHangUp : .hangUp
        case .closing, .closed:
            return .hangUp
        }
    }

    // MARK: reading a request

    /// Request bytes arrived: a body in progress is not stalled. (`now` is read only then: this
    /// runs on every read.)
    mutating func bytesReceived(now: @autoclosure () -> UInt64) {
        if case .readingBody(let since, _) = state { state = .readingBody(since: since, lastProgress: now()) }
    }

    /// Bytes of a next request are buffered but its head is not complete: the header timeout runs.
    mutating func headStarted(now: UInt64) {
        if case .awaitingRequest = state { state = .readingHead(since: now) }
    }

    enum BodyAction: Equatable {
        case none
        /// Send `100 Continue`: the client waits for it before it sends the body.
        case sendContinue
    }

    /// A request head was decoded and its body is still to be read. `expectsContinue`: an
    /// HTTP/1.1 `Expect: 100-continue`; `bodyArriving`: body bytes are already buffered (the
    /// client did not wait, so no interim answer).
    mutating func bodyExpected(expectsContinue: Bool, bodyArriving: Bool, now: UInt64) -> BodyAction {
        guard isReadingRequest else { return illegal("a request head", default: .none) }
        state = .readingBody(since: now, lastProgress: now)
        return expectsContinue && !bodyArriving ? .sendContinue : .none
    }

    /// A complete request goes to the responder. It keeps the connection open only if it asked
    /// to and neither the client nor the server is closing.
    mutating func requestReceived(isHead: Bool, version: HTTPVersion, keepAlive: Bool) {
        guard isReadingRequest else { return illegal("a request", default: ()) }
        state = .responding(
            Exchange(isHead: isHead, version: version, keepAlive: keepAlive && !peerClosed && !shuttingDown))
    }

    /// The request cannot be served (malformed, too large, too slow): an error response follows,
    /// then the connection closes.
    mutating func requestRefused() {
        guard isReadingRequest else { return illegal("a refusal", default: ()) }
        state = .responding(Exchange(isHead: false, version: .http1_1, keepAlive: false))
    }

    /// The socket goes to an HTTP/2 connection (preface or `Upgrade: h2c`): this one is done.
    mutating func handedOver() {
        guard isReadingRequest else { return illegal("a switch to HTTP/2", default: ()) }
        state = .closed
    }

    // MARK: responding

    enum ResponseBody: Equatable {
        case bytes(count: Int)
        /// Produced later; `declaredLength`: the handler's Content-Length, if any.
        case stream(declaredLength: Int?)
    }

    /// How to write a response head.
    struct Head: Equatable {
        var version: HTTPVersion
        var framing: HTTPResponseEncoder.Framing
        /// For HEAD (and bodyless answers): the length the full response would have had.
        var declaredLength: Int?
        var keepAlive: Bool
    }

    /// What follows a complete response.
    enum Completion: Equatable {
        /// Keep-alive: flush, then decode the next request (maybe already buffered).
        case awaitNextRequest
        /// Flush, then close (lingering).
        case close
    }

    enum ResponseAction: Equatable {
        /// Not answering anything (the connection closed while the responder worked): drop it.
        case ignore
        /// Write the head (and the body bytes if `withBody`), then `next`.
        case complete(Head, withBody: Bool, next: Completion)
        /// Write the head; the body's bytes follow through `streamWrite`.
        case startStream(Head)
    }

    /// The responder's answer is ready: how to frame it.
    mutating func responseReady(allowsBody statusAllowsBody: Bool, body: ResponseBody, now: UInt64) -> ResponseAction {
        guard case .responding(var exchange) = state else { return .ignore }
        let bodyAllowed = statusAllowsBody && !exchange.isHead
        switch body {
        case .bytes(let count):
            let head = Head(
                version: exchange.version, framing: bodyAllowed ? .contentLength(count) : .none,
                declaredLength: exchange.isHead ? count : nil, keepAlive: exchange.keepAlive)
            return .complete(head, withBody: bodyAllowed, next: complete(exchange, now: now))
        case .stream(let declared):
            guard bodyAllowed else {
                let head = Head(
                    version: exchange.version, framing: .none, declaredLength: exchange.isHead ? declared : nil,
                    keepAlive: exchange.keepAlive)
                return .complete(head, withBody: false, next: complete(exchange, now: now))
            }
            let framing: HTTPResponseEncoder.Framing
            if let declared {
                framing = .contentLength(declared)
            } else if exchange.version == .http1_0 {
                // No chunked coding in HTTP/1.0: the body ends when the connection does.
                framing = .untilClose
                exchange.keepAlive = false
            } else {
                framing = .chunked
            }
            state = .streaming(exchange, Stream(framing: framing, remaining: declared))
            return .startStream(
                Head(version: exchange.version, framing: framing, declaredLength: nil, keepAlive: exchange.keepAlive))
        }
    }

    enum StreamWriteAction: Equatable {
        /// Not streaming (any more): drop the bytes.
        case drop
        /// Append the bytes as one chunk.
        case chunk
        /// Append the first `count` bytes as they are (never more than a declared length).
        case bytes(count: Int)
    }

    /// The producer wrote `count` body bytes.
    mutating func streamWrite(count: Int) -> StreamWriteAction {
        guard case .streaming(let exchange, var stream) = state else { return .drop }
        let action: StreamWriteAction
        switch stream.framing {
        case .chunked:
            action = .chunk
        case .contentLength:
            // Never more than announced: extra bytes would be read as the next response.
            let allowed = min(count, stream.remaining ?? 0)
            stream.remaining = (stream.remaining ?? 0) - allowed
            action = .bytes(count: allowed)
        case .untilClose, .none:
            action = .bytes(count: count)
        }
        stream.unflushed += count
        state = .streaming(exchange, stream)
        return action
    }

    enum StreamEndAction: Equatable {
        case ignore
        /// Close the writer, append the last chunk if `lastChunk`, then `next`.
        case finish(lastChunk: Bool, next: Completion)
    }

    /// The producer returned.
    mutating func streamEnded(now: UInt64) -> StreamEndAction {
        guard case .streaming(var exchange, let stream) = state else { return .ignore }
        // A body shorter than announced leaves the client waiting for bytes that never come.
        if let remaining = stream.remaining, remaining > 0 { exchange.keepAlive = false }
        return .finish(lastChunk: stream.framing == .chunked, next: complete(exchange, now: now))
    }

    /// The response is queued: wait for the next request, or close after sending.
    private mutating func complete(_ exchange: Exchange, now: UInt64) -> Completion {
        if exchange.keepAlive && !shuttingDown {
            state = .awaitingRequest(since: now)
            return .awaitNextRequest
        }
        state = .closing
        return .close
    }

    // MARK: output and input ends

    enum DrainAction: Equatable {
        case none
        /// Tell the stream's writer that the socket took `count` of its bytes.
        case streamFlushed(Int)
        /// Shut our sending side and linger.
        case shutDownOutput
    }

    /// Everything queued was sent. (`now` is read only when lingering begins: this runs on every
    /// response.)
    mutating func outputDrained(now: @autoclosure () -> UInt64) -> DrainAction {
        switch state {
        case .closing:
            state = .lingering(until: now() + timeouts.linger)
            return .shutDownOutput
        case .streaming(let exchange, var stream) where stream.unflushed > 0:
            let count = stream.unflushed
            stream.unflushed = 0
            state = .streaming(exchange, stream)
            return .streamFlushed(count)
        default:
            return .none
        }
    }

    /// The client closed its sending side. What was read before is still decoded; then
    /// `afterEndOfInput` decides.
    mutating func endOfInput() {
        peerClosed = true
    }

    enum EndOfInputAction: Equatable {
        case none
        case close
    }

    /// After the input that preceded the client's end was decoded: nothing more can arrive, so a
    /// connection waiting for a request (or lingering) closes, and so does a stream (its client
    /// left for good); a response in progress is still sent, then the connection closes.
    mutating func afterEndOfInput() -> EndOfInputAction {
        guard peerClosed else { return .none }
        switch state {
        case .awaitingRequest, .readingHead, .readingBody, .streaming, .lingering:
            return .close
        case .responding(var exchange):
            exchange.keepAlive = false
            state = .responding(exchange)
            return .none
        case .closing, .closed:
            return .none
        }
    }

    // MARK: timeouts, shutdown, close

    enum TimeoutAction: Equatable {
        case none
        /// Close now; the reason counts in the metrics (`nil`: not a timeout).
        case close(TimeoutReason?)
        /// Answer 408 and close (the request is refused: `requestRefused` is done).
        case refuse(TimeoutReason)
    }

    enum TimeoutReason: Equatable {
        case write
        case idle
        case header
        /// No body byte within the stall timeout.
        case body
        /// The whole body not received within its deadline.
        case bodyTotal
    }

    /// Called about once a second. `pendingOutputSince`: when a write last made progress, if
    /// output is queued.
    mutating func checkTimeouts(now: UInt64, pendingOutputSince: UInt64?) -> TimeoutAction {
        if let since = pendingOutputSince, elapsed(since, now) > timeouts.write { return .close(.write) }
        switch state {
        case .awaitingRequest(let since):
            if shuttingDown { return .close(nil) }
            if elapsed(since, now) > timeouts.idle { return .close(.idle) }
        case .readingHead(let since):
            if elapsed(since, now) > timeouts.header {
                requestRefused()
                return .refuse(.header)
            }
        case .readingBody(let since, let lastProgress):
            if elapsed(lastProgress, now) > timeouts.body {
                requestRefused()
                return .refuse(.body)
            }
            // A byte now and then must not hold the connection for ever.
            if elapsed(since, now) > timeouts.bodyTotal {
                requestRefused()
                return .refuse(.bodyTotal)
            }
        case .lingering(let until):
            if now >= until { return .close(nil) }
        case .responding, .streaming, .closing, .closed:
            break
        }
        return .none
    }

    enum ShutdownAction: Equatable {
        case none
        /// Idle: close now.
        case close
        /// End the stream cleanly (the last chunk if `lastChunk`), then close after sending.
        case endStream(lastChunk: Bool)
    }

    /// Graceful shutdown began: idle connections go now, streams end cleanly, the rest finish
    /// their current response with `Connection: close`.
    mutating func beginShutdown() -> ShutdownAction {
        shuttingDown = true
        switch state {
        case .awaitingRequest:
            return .close
        case .streaming(_, let stream):
            state = .closing
            return .endStream(lastChunk: stream.framing == .chunked)
        case .responding(var exchange):
            exchange.keepAlive = false
            state = .responding(exchange)
            return .none
        case .readingHead, .readingBody, .closing, .lingering, .closed:
            return .none
        }
    }

    enum CloseAction: Equatable {
        /// Already closed.
        case none
        /// Close the socket; `streamOpen`: a stream's writer must learn that it is over.
        case close(streamOpen: Bool)
    }

    mutating func close() -> CloseAction {
        if case .closed = state { return .none }
        let streamOpen = isStreaming
        state = .closed
        return .close(streamOpen: streamOpen)
    }

    /// Time from `start` to `now`; 0 if `start` is later (set after the tick read the clock).
    private func elapsed(_ start: UInt64, _ now: UInt64) -> UInt64 { now >= start ? now - start : 0 }

    /// An event that cannot happen in the current state: a bug in the connection.
    private func illegal<T>(_ event: String, default value: T, file: StaticString = #fileID, line: UInt = #line) -> T {
        assertionFailure("HTTP/1 connection: \(event) in state \(state)", file: file, line: line)
        return value
    }
}
