import CEpoll
import HTTPCore
import Transport

/// One HTTP/1.x connection: reads and decodes requests, hands them to the responder one at a
/// time (pipelined requests wait their turn, so answers leave in order), writes responses.
///
/// Its lifecycle is `HTTPConnectionStateMachine` (pure, tested without sockets); this class
/// feeds it events and performs what it answers, moving bytes with a `SocketConnection`.
/// Lives on one event loop and is only touched there (asserted in debug builds;
/// `@unchecked Sendable` lets tasks hop back to it through `EventLoop.execute`).
///
/// Input is decoded only from the entry points (readiness, a response arriving from a task,
/// the tick), never from inside a write, so decoding is never re-entered.
final class HTTPConnection: EventLoopHandler, HTTPServerConnection, @unchecked Sendable {
    let peer: SocketAddress
    private unowned let context: HTTPServerLoop
    private let socket: SocketConnection
    // Exempt from runtime exclusivity checks (a few hundred instructions per request): both are
    // values changed only by synchronous calls on the loop's thread, which never re-enter.
    @exclusivity(unchecked) private var machine: HTTPConnectionStateMachine
    @exclusivity(unchecked) private var decoder: HTTPRequestDecoder
    /// The responder's async work, or the producer of a streamed body.
    private var handlerTask: Task<Void, Never>?
    /// The streamed body's writer, while the machine is streaming.
    private var writer: HTTPResponseWriter?
    /// The connection's first bytes while they might still be the HTTP/2 preface (h2c by prior
    /// knowledge); nil once ruled out.
    private var prefaceBytes: [UInt8]? = []
    /// The request being answered, for its access record (kept while its body streams).
    private var access: HTTPAccessStart?

    /// Input read ahead while a response is pending, before reading pauses.
    private static let readAheadLimit = 64 * 1024
    /// Queued output above which pipelined requests wait.
    private static let outputHighWater = 256 * 1024

    var fd: Int32 { socket.fd }

    init(fd: Int32, peer: SocketAddress, context: HTTPServerLoop) {
        self.peer = peer
        self.context = context
        socket = SocketConnection(fd: fd, loop: context.loop)
        decoder = HTTPRequestDecoder(limits: context.configuration.limits)
        let configuration = context.configuration
        machine = HTTPConnectionStateMachine(
            timeouts: .init(
                idle: MonotonicClock.nanoseconds(configuration.idleTimeout),
                header: MonotonicClock.nanoseconds(configuration.headerTimeout),
                body: MonotonicClock.nanoseconds(configuration.bodyTimeout),
                bodyTotal: MonotonicClock.nanoseconds(configuration.bodyDeadline),
                write: MonotonicClock.nanoseconds(configuration.writeTimeout)),
            now: MonotonicClock.now())
    }

    var isClosed: Bool { machine.isClosed }

    func start() throws {
        try socket.register(self, events: CEPOLL_IN | CEPOLL_RDHUP)
    }

    // MARK: readiness

    func handleEvents(_ events: UInt32) {
        context.loop.assertInLoop()
        if events & CEPOLL_ERR != 0 {
            closeNow()
            return
        }
        if events & CEPOLL_OUT != 0 {
            flush()
            // Pipelined requests wait while much output is queued: their turn once it is out.
            if machine.isReadingRequest, decoder.bufferedByteCount > 0, !socket.hasPendingOutput {
                processInput()
                if !isClosed { updateInterest() }
            }
        }
        if events & (CEPOLL_IN | CEPOLL_RDHUP | CEPOLL_HUP) != 0, !isClosed {
            readAvailable()
        }
    }

    private func readAvailable() {
        let buffer = context.loop.readBuffer
        if machine.isLingering {
            // Discard: the response is out and the connection is closing.
            if !socket.discardInput(into: buffer) { closeNow() }
            return
        }
        // A bounded number of reads per wake-up keeps one busy client from starving the rest.
        reading: for _ in 0..<16 {
            switch socket.read(into: buffer) {
            case .bytes(let count):
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                decoder.feed(bytes)
                if prefaceBytes != nil, sniffPreface(bytes) { return }
                machine.bytesReceived(now: MonotonicClock.now())
                let drained = count < buffer.count
                let pausing = decoder.bufferedByteCount > Self.readAheadLimit && !machine.isReadingRequest
                if drained || pausing { break reading }
            case .wouldBlock:
                break reading
            case .endOfFile:
                machine.endOfInput()
                break reading
            case .failed:
                closeNow()
                return
            }
        }
        processInput()
        guard !isClosed else { return }
        if machine.afterEndOfInput() == .close {
            closeNow()
            return
        }
        updateInterest()
    }

    // MARK: decoding

    private func processInput() {
        if prefaceBytes != nil {
            // Not decodable as HTTP/1.1 yet: "PRI * HTTP/2.0" would be refused with 505.
            if decoder.bufferedByteCount > 0 { machine.headStarted(now: MonotonicClock.now()) }
            return
        }
        while machine.isReadingRequest {
            guard socket.pendingOutputCount < Self.outputHighWater else { return }
            do {
                guard let event = try decoder.next() else {
                    if !decoder.isIdle { machine.headStarted(now: MonotonicClock.now()) }
                    return
                }
                switch event {
                case .head(let head):
                    guard decoder.isReadingBody else { continue } // the request follows at once
                    let action = machine.bodyExpected(
                        expectsContinue: head.expectsContinue && head.version == .http1_1,
                        bodyArriving: decoder.bufferedByteCount > 0, now: MonotonicClock.now())
                    if action == .sendContinue {
                        socket.enqueue(HTTPResponseEncoder.continueHead)
                        flush()
                    }
                case .request(var request):
                    if machine.acceptsUpgrade, let settings = HTTP2Upgrade.settingsPayload(of: request) {
                        switchToHTTP2(input: decoder.takeBufferedBytes(), upgrade: (request, settings))
                        return
                    }
                    request.remoteAddress = peer.description
                    request.requestID = HTTPRequestID.accept(request.headers[HTTPRequestID.headerName])
                    access = HTTPAccessStart(
                        method: request.method.rawValue, requestID: request.requestID, version: request.version)
                    context.metrics.requests.add(1, ordering: .relaxed)
                    dispatch(request)
                }
            } catch {
                context.metrics.countParseError(error)
                machine.requestRefused()
                send(HTTPError(error.status, error.message).response())
                return
            }
        }
    }

    // MARK: switching to HTTP/2

    /// Watches the connection's first bytes for the HTTP/2 preface (h2c by prior knowledge);
    /// true when the connection was handed to HTTP/2.
    private func sniffPreface(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let wanted = HTTP2Preface.bytes.count - (prefaceBytes?.count ?? 0)
        prefaceBytes?.append(contentsOf: bytes.prefix(wanted))
        switch HTTP2Preface.classify(prefaceBytes ?? []) {
        case .http1:
            prefaceBytes = nil
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
        machine.handedOver()
        handlerTask = nil
        let pendingOutput = socket.unsentOutput
        socket.release()
        context.switchToHTTP2(fd: socket.fd, peer: peer, input: input, pendingOutput: pendingOutput, upgrade: upgrade)
    }

    // MARK: responding

    private func dispatch(_ request: HTTPRequest) {
        machine.requestReceived(
            isHead: request.method == .HEAD, version: request.version, keepAlive: request.head.keepAlive)
        switch context.responder.respond(to: request) {
        case .now(let response):
            send(response)
        case .later(let work):
            let loop = context.loop
            handlerTask = Task { [self] in
                let response = await work()
                loop.execute { self.responseArrived(response) }
            }
        }
    }

    /// Back on the loop with an asynchronous handler's response.
    private func responseArrived(_ response: HTTPResponse) {
        context.loop.assertInLoop()
        send(response)
        decodeNextRequest()
    }

    /// After a response that keeps the connection: the next request may already be buffered.
    private func decodeNextRequest() {
        guard machine.isReadingRequest else { return }
        processInput()
        if !isClosed { updateInterest() }
    }

    private func send(_ response: HTTPResponse) {
        var response = response
        var access = self.access ?? .unrouted(version: .http1_1)
        self.access = nil
        if !response.headers.contains(HTTPRequestID.headerName) {
            response.headers.add(HTTPRequestID.headerName, access.requestID)
        }
        access.response = (response.status.code, response.notes)
        let body: HTTPConnectionStateMachine.ResponseBody =
            switch response.body {
            case .bytes(let bytes): .bytes(count: bytes.count)
            case .stream: .stream(declaredLength: response.headers["Content-Length"].flatMap { Int($0) })
            }
        let action = machine.responseReady(
            allowsBody: response.status.allowsBody, body: body, now: MonotonicClock.now())
        switch action {
        case .ignore:
            return // the connection died meanwhile
        case .complete(let head, let withBody, _):
            // The machine already waits for the next request or closes: sending is all that is left.
            handlerTask = nil
            context.metrics.countResponse(response.status)
            appendHead(response, head)
            if withBody, case .bytes(let bytes) = response.body {
                socket.enqueue(bytes)
                access.bytes = bytes.count
            }
            context.report(access, streamed: false)
            flush()
        case .startStream(let head):
            guard case .stream(let producer) = response.body else { return }
            handlerTask = nil
            context.metrics.countResponse(response.status)
            appendHead(response, head)
            let loop = context.loop
            let writer = HTTPResponseWriter(
                highWaterMark: context.configuration.streamHighWaterMark,
                loop: loop,
                writeOnLoop: { bytes in self.streamWrite(bytes) },
                end: { loop.execute { self.streamEnd() } },
                abort: { if self.machine.isStreaming { self.closeNow() } }
            )
            self.writer = writer
            self.access = access
            context.metrics.streamsOpen.add(1, ordering: .relaxed)
            flush()
            handlerTask = Task {
                await producer(writer)
                writer.finish()
            }
        }
    }

    private func appendHead(_ response: HTTPResponse, _ head: HTTPConnectionStateMachine.Head) {
        let date = context.date
        let serverName = context.configuration.serverName
        socket.appendOutput {
            HTTPResponseEncoder.appendHead(
                to: &$0, status: response.status, headers: response.headers, version: head.version,
                framing: head.framing, declaredLength: head.declaredLength, keepAlive: head.keepAlive,
                date: date, serverName: serverName)
        }
    }

    private func streamWrite(_ bytes: [UInt8]) {
        context.loop.assertInLoop()
        switch machine.streamWrite(count: bytes.count) {
        case .drop:
            return
        case .chunk:
            access?.bytes += bytes.count
            socket.appendOutput { HTTPResponseEncoder.appendChunk(to: &$0, bytes) }
        case .bytes(let count):
            access?.bytes += count
            if count == bytes.count { socket.enqueue(bytes) } else { socket.enqueue(bytes[..<count]) }
        }
        flush()
    }

    private func streamEnd() {
        context.loop.assertInLoop()
        guard case .finish(let lastChunk, _) = machine.streamEnded(now: MonotonicClock.now()) else { return }
        if lastChunk { socket.appendOutput { HTTPResponseEncoder.appendLastChunk(to: &$0) } }
        endStream()
        flush()
        decodeNextRequest()
    }

    /// The stream is over: its writer learns it, its producer is no longer ours.
    private func endStream() {
        reportStreamEnd()
        writer?.markClosed()
        writer = nil
        context.metrics.streamsOpen.subtract(1, ordering: .relaxed)
        handlerTask = nil
    }

    /// A streamed response is over (ended, cut short by shutdown, or its client gone).
    private func reportStreamEnd() {
        if let access { context.report(access, streamed: true) }
        access = nil
    }

    // MARK: writing

    private func flush() {
        switch socket.flush() {
        case .pending:
            updateInterest()
        case .failed:
            closeNow()
        case .drained:
            switch machine.outputDrained(now: MonotonicClock.now()) {
            case .none:
                break
            case .streamFlushed(let count):
                writer?.flushed(count)
            case .shutDownOutput:
                socket.shutdownOutput()
                updateInterest()
                return
            }
            // A stream's write that went out whole changes nothing the poller watches (the
            // common case of fan-out: skip the work of asking).
            if machine.isStreaming, !socket.wantsWritable { return }
            updateInterest()
        }
    }

    private func updateInterest() {
        guard !isClosed else { return }
        let events: UInt32 =
            switch machine.inputInterest(
                bufferedInput: decoder.bufferedByteCount, readAheadLimit: Self.readAheadLimit)
            {
            case .none: 0
            case .hangUp: CEPOLL_RDHUP
            case .readAndHangUp: CEPOLL_IN | CEPOLL_RDHUP
            }
        // The socket adds CEPOLL_OUT while output is queued.
        socket.setInterest(events)
    }

    // MARK: timeouts and shutdown (called by HTTPServerLoop)

    func checkTimeouts(now: UInt64) {
        context.loop.assertInLoop()
        let action = machine.checkTimeouts(
            now: now, pendingOutputSince: socket.hasPendingOutput ? socket.lastWriteProgress : nil)
        let configuration = context.configuration
        switch action {
        case .none:
            break
        case .close(let reason):
            switch reason {
            case .write: context.metrics.writeTimeouts.add(1, ordering: .relaxed)
            case .idle: context.metrics.idleTimeouts.add(1, ordering: .relaxed)
            case .header, .body, .bodyTotal, nil: break
            }
            closeNow()
        case .refuse(let reason):
            context.metrics.requestTimeouts.add(1, ordering: .relaxed)
            let detail =
                switch reason {
                case .header: "the request header section was not received within \(configuration.headerTimeout)"
                case .bodyTotal: "the request body was not received in full within \(configuration.bodyDeadline)"
                default: "no request body bytes received for \(configuration.bodyTimeout)"
                }
            send(HTTPError(.requestTimeout, detail).response())
        }
    }

    /// Graceful shutdown began: idle connections go now, streams end cleanly, the rest
    /// finish their current response with `Connection: close`.
    func beginShutdown() {
        context.loop.assertInLoop()
        switch machine.beginShutdown() {
        case .none:
            break
        case .close:
            closeNow()
        case .endStream(let lastChunk):
            if lastChunk { socket.appendOutput { HTTPResponseEncoder.appendLastChunk(to: &$0) } }
            handlerTask?.cancel()
            endStream()
            flush()
        }
    }

    func closeNow() {
        context.loop.assertInLoop()
        guard case .close(let streamOpen) = machine.close() else { return }
        if streamOpen {
            reportStreamEnd()
            writer?.markClosed()
            context.metrics.streamsOpen.subtract(1, ordering: .relaxed)
        }
        writer = nil
        handlerTask?.cancel()
        handlerTask = nil
        socket.close()
        context.connectionClosed(self)
    }
}
