import CEpoll
import HTTPCore
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.x connection: reads and decodes requests, hands them to the responder one at a
/// time (pipelined requests wait their turn, so answers leave in order), writes responses.
/// Lives on one event loop and is only touched there (`@unchecked Sendable` lets tasks hop
/// back to it through `EventLoop.execute`).
final class HTTPConnection: EventLoopHandler, HTTPServerConnection, @unchecked Sendable {
    enum State {
        /// Keep-alive: no byte of the next request yet.
        case awaitingRequest(since: UInt64)
        /// Part of a request head has arrived; it must complete within the header timeout.
        case readingHead(since: UInt64)
        case readingBody(lastProgress: UInt64)
        /// The responder is working on a request.
        case responding
        /// A streamed body is being produced.
        case streaming(HTTPResponseWriter, HTTPResponseEncoder.Framing)
        /// Sending what is queued, then closing.
        case closing
        /// Output done and our side shut: draining what the client still sends so the
        /// response is not destroyed by a reset, until EOF or the deadline.
        case lingering(until: UInt64)
        case closed
    }

    let fd: Int32
    let peer: SocketAddress
    private unowned let context: HTTPServerLoop
    private var state: State
    private var decoder: HTTPRequestDecoder

    private var output: [UInt8] = []
    private var outputOffset = 0
    private var lastWriteProgress: UInt64 = 0
    /// Streamed body bytes queued since the output buffer was last empty.
    private var streamBytesInOutput = 0
    private var streamBytesRemaining: Int?

    /// Facts about the request being answered.
    private var respondingToHead = false
    private var respondingVersion = HTTPVersion.http1_1
    private var keepAlive = true
    private var peerClosed = false
    private var handlerTask: Task<Void, Never>?
    private var interest: UInt32 = 0
    private var processingInput = false
    /// Until the first bytes rule it out, the client may be sending the HTTP/2 preface.
    private var sniffingPreface = true
    private var firstBytes: [UInt8] = []

    /// Input read ahead while a response is pending, before reading pauses.
    private static let readAheadLimit = 64 * 1024
    /// Queued output above which pipelined requests wait.
    private static let outputHighWater = 256 * 1024
    private static let lingerTime: UInt64 = 2_000_000_000

    init(fd: Int32, peer: SocketAddress, context: HTTPServerLoop) {
        self.fd = fd
        self.peer = peer
        self.context = context
        decoder = HTTPRequestDecoder(limits: context.configuration.limits)
        state = .awaitingRequest(since: MonotonicClock.now())
    }

    var isClosed: Bool { if case .closed = state { true } else { false } }

    func start() throws {
        interest = CEPOLL_IN | CEPOLL_RDHUP
        try context.loop.register(fd: fd, events: interest, handler: self)
    }

    // MARK: readiness

    func handleEvents(_ events: UInt32) {
        if events & CEPOLL_ERR != 0 {
            closeNow()
            return
        }
        if events & CEPOLL_OUT != 0 {
            flush()
        }
        if events & (CEPOLL_IN | CEPOLL_RDHUP | CEPOLL_HUP) != 0, !isClosed {
            readAvailable()
        }
    }

    private func readAvailable() {
        let buffer = context.readBuffer
        // A bounded number of reads per wake-up keeps one busy client from starving the rest.
        reading: for _ in 0..<16 {
            let result = Socket.read(fd, into: buffer)
            if case .lingering = state {
                // Discard: the response is out and the connection is closing.
                if case .bytes = result { continue reading }
                if case .wouldBlock = result { return }
                closeNow()
                return
            }
            switch result {
            case .bytes(let count):
                decoder.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                if sniffingPreface, sniffPreface(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { return }
                if case .readingBody = state { state = .readingBody(lastProgress: MonotonicClock.now()) }
                let drained = count < buffer.count
                let pausing = decoder.bufferedByteCount > Self.readAheadLimit && !isReadingRequest
                if drained || pausing { break reading }
            case .wouldBlock:
                break reading
            case .endOfFile:
                peerClosed = true
                break reading
            case .failed:
                closeNow()
                return
            }
        }
        processInput()
        guard !isClosed else { return }
        if peerClosed {
            switch state {
            case .awaitingRequest, .readingHead, .readingBody, .streaming, .lingering:
                // Nothing more can arrive, and a streaming client that left is gone for good.
                closeNow()
                return
            case .responding, .closing, .closed:
                keepAlive = false
            }
        }
        updateInterest()
    }

    private var isReadingRequest: Bool {
        switch state {
        case .awaitingRequest, .readingHead, .readingBody: true
        default: false
        }
    }

    // MARK: decoding

    private func processInput() {
        guard !processingInput else { return }
        if sniffingPreface {
            // Not decodable as HTTP/1.1 yet: "PRI * HTTP/2.0" would be refused with 505.
            if case .awaitingRequest = state, decoder.bufferedByteCount > 0 {
                state = .readingHead(since: MonotonicClock.now())
            }
            return
        }
        processingInput = true
        defer { processingInput = false }
        while isReadingRequest, !isClosed {
            guard output.count - outputOffset < Self.outputHighWater else { return }
            do {
                guard let event = try decoder.next() else {
                    if case .awaitingRequest = state, !decoder.isIdle {
                        state = .readingHead(since: MonotonicClock.now())
                    }
                    return
                }
                switch event {
                case .head(let head):
                    if decoder.isReadingBody {
                        if head.expectsContinue, head.version == .http1_1, decoder.bufferedByteCount == 0 {
                            output.append(contentsOf: HTTPResponseEncoder.continueHead)
                            flush()
                        }
                        state = .readingBody(lastProgress: MonotonicClock.now())
                    }
                case .request(var request):
                    if !context.isShuttingDown, let settings = HTTP2Upgrade.settingsPayload(of: request) {
                        switchToHTTP2(input: decoder.takeBufferedBytes(), upgrade: (request, settings))
                        return
                    }
                    request.remoteAddress = peer.description
                    context.metrics.requests.add(1, ordering: .relaxed)
                    dispatch(request)
                }
            } catch {
                context.metrics.countParseError(error)
                refuse(error.status, error.message)
                return
            }
        }
    }

    /// Answers a request that cannot be served (malformed, too large, too slow) and closes.
    private func refuse(_ status: HTTPStatus, _ detail: String) {
        respondingToHead = false
        respondingVersion = .http1_1
        keepAlive = false
        state = .responding
        send(HTTPError(status, detail).response())
    }

    // MARK: switching to HTTP/2

    /// Watches the connection's first bytes for the HTTP/2 preface (h2c by prior knowledge);
    /// true when the connection was handed to HTTP/2.
    private func sniffPreface(_ bytes: UnsafeRawBufferPointer) -> Bool {
        firstBytes.append(contentsOf: bytes.prefix(HTTP2Preface.bytes.count - firstBytes.count))
        switch HTTP2Preface.classify(firstBytes) {
        case .http1:
            sniffingPreface = false
            firstBytes = []
            return false
        case .undecided:
            return false
        case .http2:
            switchToHTTP2(input: decoder.takeBufferedBytes(), upgrade: nil)
            return true
        }
    }

    /// Gives the socket, the unread input and the unsent output to an `HTTP2Connection`;
    /// this object then forgets the socket without closing it.
    private func switchToHTTP2(input: [UInt8], upgrade: (request: HTTPRequest, settings: [UInt8])?) {
        let pendingOutput = Array(output[outputOffset...])
        state = .closed
        handlerTask = nil
        output = []
        context.switchToHTTP2(fd: fd, peer: peer, input: input, pendingOutput: pendingOutput, upgrade: upgrade)
    }

    // MARK: responding

    private func dispatch(_ request: HTTPRequest) {
        respondingToHead = request.method == .HEAD
        respondingVersion = request.version
        keepAlive = request.head.keepAlive && !peerClosed && !context.isShuttingDown
        state = .responding
        switch context.responder.respond(to: request) {
        case .now(let response):
            send(response)
        case .later(let work):
            let loop = context.loop
            handlerTask = Task { [self] in
                let response = await work()
                loop.execute { self.send(response) }
            }
        }
    }

    private func send(_ response: HTTPResponse) {
        guard case .responding = state else { return } // the connection died meanwhile
        handlerTask = nil
        context.metrics.countResponse(response.status)
        let bodyAllowed = response.status.allowsBody && !respondingToHead
        switch response.body {
        case .bytes(let bytes):
            let framing: HTTPResponseEncoder.Framing = bodyAllowed ? .contentLength(bytes.count) : .none
            appendHead(response, framing: framing, declaredLength: respondingToHead ? bytes.count : nil)
            if bodyAllowed { output.append(contentsOf: bytes) }
            finishExchange()
        case .stream(let producer):
            let declared = response.headers["Content-Length"].flatMap { Int($0) }
            guard bodyAllowed else {
                appendHead(response, framing: .none, declaredLength: respondingToHead ? declared : nil)
                finishExchange()
                return
            }
            let framing: HTTPResponseEncoder.Framing
            if let declared {
                framing = .contentLength(declared)
                streamBytesRemaining = declared
            } else if respondingVersion == .http1_0 {
                framing = .untilClose
                keepAlive = false
            } else {
                framing = .chunked
            }
            appendHead(response, framing: framing, declaredLength: nil)
            let loop = context.loop
            let writer = HTTPResponseWriter(
                highWaterMark: context.configuration.streamHighWaterMark,
                loop: loop,
                writeOnLoop: { bytes in self.streamWrite(bytes) },
                end: { loop.execute { self.streamEnd() } }
            )
            state = .streaming(writer, framing)
            context.metrics.streamsOpen.add(1, ordering: .relaxed)
            flush()
            handlerTask = Task {
                await producer(writer)
                writer.finish()
            }
        }
    }

    private func appendHead(_ response: HTTPResponse, framing: HTTPResponseEncoder.Framing, declaredLength: Int?) {
        HTTPResponseEncoder.appendHead(
            to: &output, status: response.status, headers: response.headers, version: respondingVersion,
            framing: framing, declaredLength: declaredLength, keepAlive: keepAlive,
            date: context.date, serverName: context.configuration.serverName)
    }

    private func streamWrite(_ bytes: [UInt8]) {
        guard case .streaming(_, let framing) = state else { return }
        switch framing {
        case .chunked:
            HTTPResponseEncoder.appendChunk(to: &output, bytes)
        case .contentLength:
            // Never send more than announced: extra bytes would be read as the next response.
            let allowed = min(bytes.count, streamBytesRemaining ?? 0)
            output.append(contentsOf: bytes.prefix(allowed))
            streamBytesRemaining = (streamBytesRemaining ?? 0) - allowed
        case .untilClose, .none:
            output.append(contentsOf: bytes)
        }
        streamBytesInOutput += bytes.count
        flush()
    }

    private func streamEnd() {
        guard case .streaming(let writer, let framing) = state else { return }
        if framing == .chunked { HTTPResponseEncoder.appendLastChunk(to: &output) }
        // A body shorter than announced leaves the client waiting for bytes that never come.
        if let remaining = streamBytesRemaining, remaining > 0 { keepAlive = false }
        streamBytesRemaining = nil
        writer.markClosed()
        context.metrics.streamsOpen.subtract(1, ordering: .relaxed)
        handlerTask = nil
        finishExchange()
    }

    /// The response is queued: keep the connection for the next request, or close after sending.
    private func finishExchange() {
        if keepAlive && !context.isShuttingDown {
            state = .awaitingRequest(since: MonotonicClock.now())
            flush()
            if !isClosed { processInput() }
        } else {
            state = .closing
            flush()
        }
        if !isClosed { updateInterest() }
    }

    // MARK: writing

    private func flush() {
        while outputOffset < output.count {
            let result = output.withUnsafeBytes {
                Socket.write(fd, UnsafeRawBufferPointer(rebasing: $0[outputOffset...]))
            }
            switch result {
            case .bytes(let count):
                outputOffset += count
                lastWriteProgress = MonotonicClock.now()
            case .wouldBlock, .endOfFile:
                updateInterest()
                return
            case .failed:
                closeNow()
                return
            }
        }
        // Everything is out: release big buffers, tell a waiting producer, finish a close.
        if output.capacity > 1 << 20 { output = [] } else { output.removeAll(keepingCapacity: true) }
        outputOffset = 0
        if streamBytesInOutput > 0, case .streaming(let writer, _) = state {
            writer.flushed(streamBytesInOutput)
        }
        streamBytesInOutput = 0
        if case .closing = state {
            beginLingering()
            return
        }
        if isReadingRequest, decoder.bufferedByteCount > 0, !processingInput { processInput() }
        // A stream's write that went out whole changes nothing the poller watches (the common
        // case of fan-out: skip the work of asking).
        if case .streaming = state, interest & CEPOLL_OUT == 0 { return }
        updateInterest()
    }

    private func beginLingering() {
        shutdown(fd, Int32(SHUT_WR))
        state = .lingering(until: MonotonicClock.now() + Self.lingerTime)
        updateInterest()
    }

    private func updateInterest() {
        guard !isClosed else { return }
        var wanted: UInt32 = 0
        if !peerClosed {
            let readAhead: Bool =
                switch state {
                case .awaitingRequest, .readingHead, .readingBody, .lingering: true
                case .responding, .streaming: decoder.bufferedByteCount < Self.readAheadLimit
                case .closing, .closed: false
                }
            // RDHUP stays on while a response is pending, so a client that leaves is noticed.
            wanted = (readAhead ? CEPOLL_IN : 0) | CEPOLL_RDHUP
        }
        if outputOffset < output.count { wanted |= CEPOLL_OUT }
        if wanted != interest {
            interest = wanted
            context.loop.modify(fd: fd, events: wanted)
        }
    }

    // MARK: timeouts and shutdown (called by HTTPServerLoop)

    func checkTimeouts(now: UInt64) {
        let configuration = context.configuration
        if outputOffset < output.count, now - lastWriteProgress > MonotonicClock.nanoseconds(configuration.writeTimeout)
        {
            context.metrics.writeTimeouts.add(1, ordering: .relaxed)
            closeNow()
            return
        }
        switch state {
        case .awaitingRequest(let since):
            if context.isShuttingDown || now - since > MonotonicClock.nanoseconds(configuration.idleTimeout) {
                if !context.isShuttingDown { context.metrics.idleTimeouts.add(1, ordering: .relaxed) }
                closeNow()
            }
        case .readingHead(let since):
            if now - since > MonotonicClock.nanoseconds(configuration.headerTimeout) {
                context.metrics.requestTimeouts.add(1, ordering: .relaxed)
                refuse(
                    .requestTimeout, "the request header section was not received within \(configuration.headerTimeout)"
                )
            }
        case .readingBody(let lastProgress):
            if now - lastProgress > MonotonicClock.nanoseconds(configuration.bodyTimeout) {
                context.metrics.requestTimeouts.add(1, ordering: .relaxed)
                refuse(.requestTimeout, "no request body bytes received for \(configuration.bodyTimeout)")
            }
        case .lingering(let until):
            if now >= until { closeNow() }
        case .responding, .streaming, .closing, .closed:
            break
        }
    }

    /// Graceful shutdown began: idle connections go now, streams end cleanly, the rest
    /// finish their current response with `Connection: close`.
    func beginShutdown() {
        switch state {
        case .awaitingRequest:
            closeNow()
        case .streaming(let writer, let framing):
            if framing == .chunked { HTTPResponseEncoder.appendLastChunk(to: &output) }
            writer.markClosed()
            context.metrics.streamsOpen.subtract(1, ordering: .relaxed)
            handlerTask?.cancel()
            handlerTask = nil
            state = .closing
            flush()
        default:
            keepAlive = false
        }
    }

    func closeNow() {
        if case .closed = state { return }
        if case .streaming(let writer, _) = state {
            writer.markClosed()
            context.metrics.streamsOpen.subtract(1, ordering: .relaxed)
        }
        state = .closed
        handlerTask?.cancel()
        handlerTask = nil
        context.loop.deregister(fd: fd)
        close(fd)
        output = []
        context.connectionClosed(self)
    }
}
