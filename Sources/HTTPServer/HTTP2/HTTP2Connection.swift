import CEpoll
import CNGHTTP2
import HTTPCore
import Transport

/// One HTTP/2 cleartext connection (h2c by prior knowledge or after `Upgrade: h2c`).
///
/// nghttp2 does the framing, HPACK, stream states and flow control; this class feeds it the
/// bytes read (`nghttp2_session_mem_recv`), writes what it produces (`nghttp2_session_mem_send`),
/// turns finished streams into `HTTPRequest`s for the same responder HTTP/1.1 uses, and hands
/// response bodies back to it a DATA frame at a time. Lives on one event loop and is only
/// touched there (asserted in debug builds); nghttp2 callbacks (see
/// `HTTP2Connection+Callbacks.swift`) run inside `mem_recv`/`mem_send`, so they only record
/// state and submit frames, and never close. Each stream's lifecycle is an
/// `HTTP2StreamStateMachine`; the bytes move through a `SocketConnection`.
final class HTTP2Connection: EventLoopHandler, HTTPServerConnection, @unchecked Sendable {
    enum Phase {
        case open
        /// Output done and our side shut: draining the client until EOF or the deadline.
        case lingering(until: UInt64)
        case closed
    }

    let peer: SocketAddress
    unowned let context: HTTPServerLoop
    private let socket: SocketConnection
    /// Created in `start`, deleted in `closeNow` (never from inside a callback).
    private(set) var session: OpaquePointer?
    var streams: [Int32: HTTP2Stream] = [:]
    private var phase = Phase.open
    /// Last byte received or stream closed: the idle timeout counts from here.
    var lastActivity: UInt64
    /// A GOAWAY was submitted (shutdown or idleness): no new streams; close once the rest finish.
    private var goingAway = false
    /// The upgraded request waits for the client's preface before it is answered: curl 7.88
    /// fails when much more than the 101 arrives in the read that carries it.
    private var upgradedRequest: (request: HTTPRequest, since: UInt64)?
    /// Response body bytes held for all streams, not yet framed.
    private var bufferedResponseBytes = 0 {
        didSet { if oldValue == 0, bufferedResponseBytes > 0 { lastFramingProgress = MonotonicClock.now() } }
    }
    /// Last time nghttp2 took body bytes into a DATA frame: a client that keeps its flow-control
    /// windows shut while bodies wait is a client that stopped reading (write timeout).
    private var lastFramingProgress: UInt64 = 0
    /// Complete requests waiting for `bufferedResponseBytes` to drop below the budget.
    private var waitingRequests: [Int32] = []

    /// Output queued above this stops both reading and framing: a client that does not read
    /// cannot make the server buffer unboundedly.
    static let outputHighWater = 256 * 1024
    static let lingerTime: UInt64 = 2_000_000_000
    /// Above this many buffered response bytes, complete requests wait before they are handed to
    /// the responder: a client that asks for 500 large files at once and reads slowly must not
    /// make the server hold all of them (HTTP/1.1 has one response per connection at a time).
    static let responseBufferBudget = 4 << 20

    /// `pendingOutput`: bytes the HTTP/1.1 connection had not sent yet when it switched.
    init(fd: Int32, peer: SocketAddress, context: HTTPServerLoop, pendingOutput: [UInt8]) {
        self.peer = peer
        self.context = context
        socket = SocketConnection(fd: fd, loop: context.loop)
        socket.enqueue(pendingOutput)
        lastActivity = MonotonicClock.now()
    }

    deinit {
        if let session { nghttp2_session_del(session) }
    }

    var fd: Int32 { socket.fd }
    var isClosed: Bool { if case .closed = phase { true } else { false } }
    private var outputPending: Int { socket.pendingOutputCount }

    // MARK: start

    /// Creates the session, queues the server preface, registers with the loop and processes
    /// `input` (bytes already read: the client preface and maybe more). For an upgrade,
    /// `upgrade` is the HTTP/1.1 request (answered on stream 1) and its decoded HTTP2-Settings.
    func start(input: [UInt8], upgrade: (request: HTTPRequest, settings: [UInt8])?) throws {
        try createSession()
        guard let session else { return }
        if let upgrade {
            let rv = upgrade.settings.withUnsafeBufferPointer {
                nghttp2_session_upgrade2(
                    session, $0.baseAddress, $0.count, upgrade.request.method == .HEAD ? 1 : 0, nil)
            }
            guard rv == 0 else {
                throw HTTPError(.badRequest, "HTTP2-Settings rejected: \(String(cString: nghttp2_strerror(rv)))")
            }
            socket.enqueue(HTTP2Upgrade.switchingProtocols)
        }
        submitSettings()
        try socket.register(self, events: CEPOLL_IN | CEPOLL_RDHUP)
        if let upgrade {
            let stream = HTTP2Stream(id: 1, machine: .upgraded(limits: context.configuration.limits))
            stream.method = upgrade.request.method.rawValue
            streams[1] = stream
            upgradedRequest = (upgrade.request, MonotonicClock.now())
        }
        if !input.isEmpty {
            let accepted = input.withUnsafeBytes { receive($0) }
            guard accepted else { return }
        }
        pump()
    }

    private func createSession() throws {
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else {
            throw HTTPError(.internalServerError, "nghttp2: out of memory")
        }
        defer { nghttp2_session_callbacks_del(callbacks) }
        Self.installCallbacks(callbacks)
        var option: OpaquePointer?
        guard nghttp2_option_new(&option) == 0, let option else {
            throw HTTPError(.internalServerError, "nghttp2: out of memory")
        }
        defer { nghttp2_option_del(option) }
        // Window updates only for body bytes the server has taken (see `receivedData`).
        nghttp2_option_set_no_auto_window_update(option, 1)
        var created: OpaquePointer?
        let rv = nghttp2_session_server_new2(&created, callbacks, Unmanaged.passUnretained(self).toOpaque(), option)
        guard rv == 0, let created else { throw HTTPError(.internalServerError, "nghttp2_session_server_new2: \(rv)") }
        session = created
    }

    private func submitSettings() {
        guard let session else { return }
        let http2 = context.configuration.http2
        var entries = [
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                value: UInt32(http2.maxConcurrentStreams)),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                value: UInt32(http2.initialStreamWindowSize)),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                value: UInt32(context.configuration.limits.maxHeaderBytes)),
        ]
        _ = nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &entries, entries.count)
        if http2.connectionWindowSize > 65_535 {
            _ = nghttp2_session_set_local_window_size(
                session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, Int32(http2.connectionWindowSize))
        }
    }

    // MARK: readiness

    func handleEvents(_ events: UInt32) {
        context.loop.assertInLoop()
        if events & CEPOLL_ERR != 0 {
            closeNow()
            return
        }
        if events & CEPOLL_OUT != 0 {
            pump()
        }
        if events & (CEPOLL_IN | CEPOLL_RDHUP | CEPOLL_HUP) != 0, !isClosed {
            readAvailable()
        }
    }

    private func readAvailable() {
        let buffer = context.loop.readBuffer
        if case .lingering = phase {
            // Discard: our side is done and the connection is closing.
            if !socket.discardInput(into: buffer) { closeNow() }
            return
        }
        // A bounded number of reads per wake-up keeps one busy client from starving the rest.
        reading: for _ in 0..<16 {
            if outputPending >= Self.outputHighWater { break reading }
            switch socket.read(into: buffer) {
            case .bytes(let count):
                lastActivity = MonotonicClock.now()
                guard receive(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) else { return }
                if count < buffer.count { break reading }
            case .wouldBlock:
                break reading
            case .endOfFile, .failed:
                // The client is gone; nothing more can be delivered.
                closeNow()
                return
            }
        }
        pump()
    }

    /// Feeds bytes to nghttp2; false when the connection had to be closed.
    private func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let session, case .open = phase else { return false }
        let rv = nghttp2_session_mem_recv(session, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        if rv < 0 {
            // Fatal (a bad client preface after an Upgrade, out of memory): say so if the
            // session still can, then go.
            context.logger.debug("h2 \(peer): \(String(cString: nghttp2_strerror(Int32(rv))))")
            _ = nghttp2_session_terminate_session(session, UInt32(NGHTTP2_PROTOCOL_ERROR.rawValue))
            var data: UnsafePointer<UInt8>?
            while true {
                let n = nghttp2_session_mem_send(session, &data)
                guard n > 0, let data else { break }
                socket.enqueue(UnsafeRawBufferPointer(start: data, count: n))
            }
            writeOutput()
            if !isClosed { beginLingering() }
            return false
        }
        if let (request, _) = upgradedRequest, let stream = streams[1] {
            upgradedRequest = nil
            run(request, on: stream)
        }
        return true
    }

    // MARK: output

    /// Moves frames from nghttp2 to the socket while the output buffer has room, then closes
    /// the connection if the session has nothing more to do.
    func pump() {
        context.loop.assertInLoop()
        guard let session, case .open = phase else { return }
        dispatchWaitingRequests()
        var rounds = 0
        framing: while true {
            while outputPending < Self.outputHighWater {
                var data: UnsafePointer<UInt8>?
                let n = nghttp2_session_mem_send(session, &data)
                if n < 0 {
                    context.logger.debug("h2 \(peer): \(String(cString: nghttp2_strerror(Int32(n))))")
                    closeNow()
                    return
                }
                guard n > 0, let data else { break }
                socket.enqueue(UnsafeRawBufferPointer(start: data, count: n))
            }
            writeOutput()
            guard case .open = phase else { return }
            // The socket took everything but nghttp2 has more (a body larger than the buffer):
            // frame on, a few rounds now, then after the other connections had their turn.
            guard outputPending == 0, nghttp2_session_want_write(session) != 0 else { break framing }
            rounds += 1
            if rounds == 8 {
                context.loop.execute { self.pump() }
                break framing
            }
        }
        if !waitingRequests.isEmpty, bufferedResponseBytes < Self.responseBufferBudget {
            // Framing freed budget for requests that wait: their turn comes on the next pass.
            context.loop.execute { self.pump() }
        }
        if outputPending == 0, nghttp2_session_want_read(session) == 0, nghttp2_session_want_write(session) == 0 {
            // GOAWAY sent or received and no stream left (or a connection error was reported).
            beginLingering()
            return
        }
        updateInterest()
    }

    private func writeOutput() {
        if socket.flush() == .failed { closeNow() }
    }

    private func updateInterest() {
        var wanted = CEPOLL_RDHUP
        switch phase {
        case .open: if outputPending < Self.outputHighWater { wanted |= CEPOLL_IN }
        case .lingering: wanted |= CEPOLL_IN
        case .closed: return
        }
        // The socket adds CEPOLL_OUT while output is queued.
        socket.setInterest(wanted)
    }

    private func beginLingering() {
        for stream in streams.values { release(stream) }
        streams.removeAll()
        socket.shutdownOutput()
        phase = .lingering(until: MonotonicClock.now() + Self.lingerTime)
        updateInterest()
    }

    // MARK: requests

    /// Called as a stream's frames arrive: refuses it, or dispatches it once complete.
    func advance(_ stream: HTTP2Stream) {
        switch stream.machine.advance() {
        case .none:
            return
        case .refuse(let rejection):
            context.metrics.countParseError(rejection)
            respond(stream, HTTPError(rejection.status, rejection.message).response())
            return
        case .dispatch:
            break
        }
        guard waitingRequests.isEmpty, bufferedResponseBytes < Self.responseBufferBudget else {
            waitingRequests.append(stream.id)
            return
        }
        dispatch(stream)
    }

    /// Hands waiting requests to the responder while the buffered responses are under budget.
    /// Called from `pump`, outside nghttp2's callbacks.
    private func dispatchWaitingRequests() {
        var index = 0
        while index < waitingRequests.count, bufferedResponseBytes < Self.responseBufferBudget {
            if let stream = streams[waitingRequests[index]], !stream.machine.isAnswered { dispatch(stream) }
            index += 1
        }
        if index > 0 { waitingRequests.removeFirst(index) }
    }

    private func dispatch(_ stream: HTTP2Stream) {
        guard let method = stream.method, let path = stream.path else {
            // nghttp2 lets only CONNECT through without :path.
            respond(stream, HTTPError(.notImplemented, "CONNECT is not supported").response())
            return
        }
        var headers = stream.headers
        if let authority = stream.authority, !headers.contains("Host") {
            headers = HTTPHeaders([("host", authority)] + headers.map { ($0.name, $0.value) })
        }
        if !stream.cookies.isEmpty { headers.add("cookie", stream.cookies.joined(separator: "; ")) }
        let head = HTTPRequestHead(method: HTTPMethod(method), target: path, version: .http2, headers: headers)
        let request = HTTPRequest(head: head, body: stream.body, trailers: stream.trailers)
        stream.body = []
        run(request, on: stream)
    }

    private func run(_ request: HTTPRequest, on stream: HTTP2Stream) {
        var request = request
        request.remoteAddress = peer.description
        request.requestID = HTTPRequestID.accept(request.headers[HTTPRequestID.headerName])
        stream.access = HTTPAccessStart(
            method: request.method.rawValue, requestID: request.requestID, version: .http2)
        context.metrics.requests.add(1, ordering: .relaxed)
        switch context.responder.respond(to: request) {
        case .now(let response):
            respond(stream, response)
        case .later(let work):
            let loop = context.loop
            let id = stream.id
            stream.task = Task { [self] in
                let response = await work()
                loop.execute {
                    self.context.loop.assertInLoop()
                    guard let stream = self.streams[id] else { return } // reset meanwhile
                    self.respond(stream, response)
                    self.pump()
                }
            }
        }
    }

    // MARK: responses

    /// Submits the response HEADERS and, for a body, a data provider reading `stream.pending`.
    /// Does not write: the caller pumps (callbacks must not).
    func respond(_ stream: HTTP2Stream, _ response: HTTPResponse) {
        guard case .open = phase, streams[stream.id] === stream else { return }
        let bodyAllowed = response.status.allowsBody && !stream.isHeadRequest
        let declared: Int? =
            switch response.body {
            case .bytes(let bytes): bytes.count
            case .stream: response.headers["Content-Length"].flatMap { Int($0) }
            }
        let answer: HTTP2StreamStateMachine.AnswerBody =
            switch response.body {
            case .bytes: bodyAllowed && declared != 0 ? .bytes : .headersOnly
            case .stream: bodyAllowed ? .stream(declaredLength: declared) : .headersOnly
            }
        guard stream.machine.answer(answer) else { return }
        stream.task = nil
        context.metrics.countResponse(response.status)
        var response = response
        var access = stream.access ?? .unrouted(version: .http2)
        stream.access = nil
        if !response.headers.contains(HTTPRequestID.headerName) {
            response.headers.add(HTTPRequestID.headerName, access.requestID)
        }
        access.response = (response.status.code, response.notes)
        if case .stream = answer {
            stream.access = access // reported when the stream is released
        } else {
            if case .bytes(let bytes) = response.body, case .bytes = answer { access.bytes = bytes.count }
            context.report(access, streamed: false)
        }
        // HEAD announces the length the full response would have had, as over HTTP/1.1.
        let announcesLength = bodyAllowed || (stream.isHeadRequest && response.status.code != 204)
        var fields = responseFields(response)
        if announcesLength, let declared { fields.append(("content-length", String(declared))) }
        switch (response.body, answer) {
        case (_, .headersOnly):
            submit(stream, fields, withBody: false)
        case (.bytes(let bytes), _):
            stream.pending = bytes
            bufferedResponseBytes += bytes.count
            submit(stream, fields, withBody: true)
        case (.stream(let producer), _):
            let loop = context.loop
            let id = stream.id
            let writer = HTTPResponseWriter(
                highWaterMark: context.configuration.streamHighWaterMark,
                loop: loop,
                writeOnLoop: { bytes in self.streamWrite(id, bytes) },
                end: { loop.execute { self.streamEnd(id) } },
                abort: { self.abortStream(id) }
            )
            stream.writer = writer
            context.metrics.streamsOpen.add(1, ordering: .relaxed)
            guard submit(stream, fields, withBody: true) else { return }
            stream.task = Task {
                await producer(writer)
                writer.finish()
            }
        }
    }

    private func responseFields(_ response: HTTPResponse) -> [(String, String)] {
        var fields: [(String, String)] = [(":status", String(response.status.code)), ("date", context.date)]
        if !response.headers.contains("Server") { fields.append(("server", context.configuration.serverName)) }
        for (name, value) in response.headers {
            let lower = name.lowercased()
            switch lower {
            // Connection-specific fields are forbidden in h2 (RFC 9113 §8.2.2); framing is ours.
            case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "content-length":
                continue
            default: fields.append((lower, value))
            }
        }
        return fields
    }

    @discardableResult
    private func submit(_ stream: HTTP2Stream, _ fields: [(String, String)], withBody: Bool) -> Bool {
        guard let session else { return false }
        // nghttp2 copies the fields, so one scratch buffer for all names and values will do.
        var storage: [UInt8] = []
        var spans: [(name: Int, nameLength: Int, value: Int, valueLength: Int)] = []
        spans.reserveCapacity(fields.count)
        for (name, value) in fields {
            let nameStart = storage.count
            storage.append(contentsOf: name.utf8)
            let valueStart = storage.count
            storage.append(contentsOf: value.utf8)
            spans.append((nameStart, valueStart - nameStart, valueStart, storage.count - valueStart))
        }
        let rv = storage.withUnsafeMutableBufferPointer { buffer -> Int32 in
            let base = buffer.baseAddress!
            var nva = spans.map {
                nghttp2_nv(
                    name: base + $0.name, value: base + $0.value, namelen: $0.nameLength, valuelen: $0.valueLength,
                    flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            if withBody {
                var provider = nghttp2_data_provider(
                    source: nghttp2_data_source(ptr: nil), read_callback: Self.readBodyCallback)
                return nghttp2_submit_response(session, stream.id, &nva, nva.count, &provider)
            }
            return nghttp2_submit_response(session, stream.id, &nva, nva.count, nil)
        }
        if rv != 0 {
            context.logger.debug(
                "h2 \(peer): submit_response on stream \(stream.id): \(String(cString: nghttp2_strerror(rv)))")
            _ = nghttp2_submit_rst_stream(
                session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id, UInt32(NGHTTP2_INTERNAL_ERROR.rawValue))
            return false
        }
        return true
    }

    /// Copies up to `length` pending body bytes into a DATA frame (nghttp2 sizes it to the
    /// flow-control windows); defers the stream when nothing is buffered yet.
    func readBody(
        _ streamID: Int32, into buffer: UnsafeMutablePointer<UInt8>, length: Int, flags: UnsafeMutablePointer<UInt32>
    ) -> Int {
        guard let stream = streams[streamID] else { return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
        let count = min(length, stream.pendingCount)
        if count > 0 {
            stream.pending.withUnsafeBufferPointer { source in
                buffer.update(from: source.baseAddress! + stream.pendingOffset, count: count)
            }
            stream.pendingOffset += count
            bufferedResponseBytes -= count
            lastFramingProgress = MonotonicClock.now()
            if stream.pendingOffset == stream.pending.count {
                stream.pending.removeAll(keepingCapacity: stream.pending.capacity <= 64 * 1024)
                stream.pendingOffset = 0
            }
            stream.writer?.flushed(count)
        }
        switch stream.machine.bodyRead(count: count, pendingAfter: stream.pendingCount) {
        case .data:
            return count
        case .endOfBody:
            flags.pointee |= UInt32(NGHTTP2_DATA_FLAG_EOF.rawValue)
            return count
        case .deferred:
            // An open-ended stream (SSE) with nothing to say: resumed by `streamWrite`.
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        }
    }

    private func streamWrite(_ id: Int32, _ bytes: [UInt8]) {
        context.loop.assertInLoop()
        guard case .open = phase, let stream = streams[id],
            case .queue(let allowed, let resume) = stream.machine.bodyWritten(count: bytes.count)
        else { return }
        var bytes = bytes
        if allowed < bytes.count {
            // Past the declared length: dropped, and counted as gone for the writer.
            stream.writer?.flushed(bytes.count - allowed)
            bytes = Array(bytes.prefix(allowed))
        }
        bufferedResponseBytes += bytes.count
        stream.access?.bytes += bytes.count
        if stream.pendingCount == 0 {
            stream.pending = bytes
            stream.pendingOffset = 0
        } else {
            if stream.pendingOffset >= 64 * 1024, stream.pendingOffset * 2 >= stream.pending.count {
                stream.pending.removeSubrange(0..<stream.pendingOffset)
                stream.pendingOffset = 0
            }
            stream.pending.append(contentsOf: bytes)
        }
        if resume { resumeData(stream) }
        pump()
    }

    private func streamEnd(_ id: Int32) {
        context.loop.assertInLoop()
        guard case .open = phase, let session, let stream = streams[id] else { return }
        switch stream.machine.bodyEnded() {
        case .ignore:
            return
        case .reset:
            // Shorter than announced: a reset tells the client the body is incomplete.
            _ = nghttp2_submit_rst_stream(
                session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, UInt32(NGHTTP2_INTERNAL_ERROR.rawValue))
        case .finish(let resume):
            if resume { resumeData(stream) }
        }
        pump()
    }

    /// The producer gave up on a client that does not read: RST_STREAM(CANCEL), and the bytes
    /// buffered for it are released with the stream.
    private func abortStream(_ id: Int32) {
        context.loop.assertInLoop()
        guard case .open = phase, let session, streams[id] != nil else { return }
        _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, UInt32(NGHTTP2_CANCEL.rawValue))
        pump()
    }

    /// RST_STREAM(NO_ERROR): the answer is out, the rest of the request is not wanted (RFC 9113 §8.1).
    func stopUpload(_ stream: HTTP2Stream) {
        guard let session, stream.machine.stopUpload() else { return }
        _ = nghttp2_submit_rst_stream(
            session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id, UInt32(NGHTTP2_NO_ERROR.rawValue))
    }

    /// nghttp2 was told to wait for body bytes (NGHTTP2_ERR_DEFERRED): they are there, or the end.
    private func resumeData(_ stream: HTTP2Stream) {
        guard let session else { return }
        _ = nghttp2_session_resume_data(session, stream.id)
    }

    /// The stream is closed (complete, reset by either side, or the connection is going).
    func release(_ stream: HTTP2Stream) {
        bufferedResponseBytes -= stream.pendingCount
        stream.pending = []
        stream.pendingOffset = 0
        if let access = stream.access, access.response != nil {
            context.report(access, streamed: true)
            stream.access = nil
        }
        if let writer = stream.writer {
            writer.markClosed()
            context.metrics.streamsOpen.subtract(1, ordering: .relaxed)
            stream.writer = nil
        }
        stream.task?.cancel()
        stream.task = nil
    }

    // MARK: timeouts and shutdown (called by HTTPServerLoop)

    func checkTimeouts(now: UInt64) {
        context.loop.assertInLoop()
        let configuration = context.configuration
        switch phase {
        case .closed:
            return
        case .lingering(let until):
            if now >= until { closeNow() }
            return
        case .open:
            break
        }
        let writeTimeout = MonotonicClock.nanoseconds(configuration.writeTimeout)
        if socket.writeStalled(now: now, timeout: configuration.writeTimeout)
            || (bufferedResponseBytes > 0 && now - lastFramingProgress > writeTimeout)
        {
            context.metrics.writeTimeouts.add(1, ordering: .relaxed)
            closeNow()
            return
        }
        if let (_, since) = upgradedRequest, now - since > MonotonicClock.nanoseconds(configuration.headerTimeout) {
            // Upgraded, but the client never sent its preface.
            context.metrics.requestTimeouts.add(1, ordering: .relaxed)
            closeNow()
            return
        }
        if streams.isEmpty, !goingAway, now - lastActivity > MonotonicClock.nanoseconds(configuration.idleTimeout) {
            context.metrics.idleTimeouts.add(1, ordering: .relaxed)
            goAway()
            pump()
            return
        }
        let headerTimeout = MonotonicClock.nanoseconds(configuration.headerTimeout)
        let bodyTimeout = MonotonicClock.nanoseconds(configuration.bodyTimeout)
        let bodyDeadline = MonotonicClock.nanoseconds(configuration.bodyDeadline)
        var answered = false
        for stream in streams.values {
            switch stream.machine.checkTimeout(
                now: now, header: headerTimeout, body: bodyTimeout, bodyTotal: bodyDeadline)
            {
            case .none:
                continue
            case .terminateConnection:
                guard let session else { continue }
                context.metrics.requestTimeouts.add(1, ordering: .relaxed)
                _ = nghttp2_session_terminate_session(session, UInt32(NGHTTP2_NO_ERROR.rawValue))
                pump()
                return
            case .refuse:
                context.metrics.requestTimeouts.add(1, ordering: .relaxed)
                // The answer goes first; the upload is reset once it is out (see on_frame_send).
                respond(
                    stream,
                    HTTPError(.requestTimeout, "no request body bytes received for \(configuration.bodyTimeout)")
                        .response())
            case .refuseDeadline:
                context.metrics.requestTimeouts.add(1, ordering: .relaxed)
                respond(
                    stream,
                    HTTPError(
                        .requestTimeout,
                        "the request body was not received in full within \(configuration.bodyDeadline)"
                    ).response())
            case .stopUpload:
                stopUpload(stream)
            }
            answered = true
        }
        if answered { pump() }
    }

    /// Graceful shutdown: GOAWAY (no new streams), event streams end cleanly, requests in
    /// flight finish; the connection closes once no stream is left.
    func beginShutdown() {
        context.loop.assertInLoop()
        guard case .open = phase else { return }
        goAway()
        for stream in streams.values where stream.writer != nil {
            stream.writer?.markClosed()
            stream.task?.cancel()
            if stream.machine.bodyEndedForShutdown() { resumeData(stream) }
        }
        pump()
    }

    private func goAway() {
        guard let session, !goingAway else { return }
        goingAway = true
        _ = nghttp2_submit_goaway(
            session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nghttp2_session_get_last_proc_stream_id(session),
            UInt32(NGHTTP2_NO_ERROR.rawValue), nil, 0)
    }

    func closeNow() {
        context.loop.assertInLoop()
        if case .closed = phase { return }
        phase = .closed
        for stream in streams.values { release(stream) }
        streams.removeAll()
        socket.close()
        // The session goes after the loop forgot us: nothing can call back into it any more.
        if let session { nghttp2_session_del(session) }
        session = nil
        context.connectionClosed(self)
    }
}
