import CEpoll
import Foundation
import HTTPCore
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 connection to the upstream, driven by an event loop like the server's own
/// connections: no thread waits on it. The pool hands it from owner to owner, never to two at
/// once; everything that touches the socket runs on its loop (hence `@unchecked Sendable`).
///
/// `exchange` writes one request and reads its whole answer (`HTTPClientResponseDecoder`),
/// ended by the exchange's deadline through a loop timer. Afterwards `isReusable` says
/// whether another request may follow. Between exchanges the socket is not watched: an idle
/// connection waits in the pool, which checks `looksAlive` before reusing it.
///
/// States: `connecting` → `idle` ⇄ `exchanging` → `closed` (any failure closes).
final class HTTPClientConnection: EventLoopHandler, @unchecked Sendable {
    /// `host:port`, the pool's key.
    let endpoint: String
    let loop: EventLoop
    /// Exchanges completed; above 0 the connection has been kept alive and reused.
    private(set) var completedExchanges = 0
    /// The last answer allows another request: HTTP/1.1 without `Connection: close` (or 1.0
    /// with `keep-alive`), its body framed and read to its exact end, nothing more sent after it.
    private(set) var isReusable = false
    /// When the pool last put it aside (monotonic seconds).
    var idleSince = 0.0

    private let socket: SocketConnection
    private let maxHeadBytes: Int
    private var state: State

    private enum State {
        case connecting(done: (ConnectFailure?) -> Void, timer: UInt64)
        case idle
        case exchanging(Exchange)
        case closed
    }

    /// What one exchange needs until its answer is complete.
    private struct Exchange {
        var decoder: HTTPClientResponseDecoder
        var sink: HTTPClientBodySink
        var head: HTTPResponseHead?
        var deadline: Deadline
        var timer: UInt64
        var continuation: CheckedContinuation<Result<HTTPClientResponse, HTTPClientError>, Never>
    }

    private init(fd: Int32, endpoint: String, loop: EventLoop, maxHeadBytes: Int, state: State) {
        self.endpoint = endpoint
        self.loop = loop
        self.maxHeadBytes = maxHeadBytes
        self.state = state
        socket = SocketConnection(fd: fd, loop: loop)
    }

    // MARK: - opening

    /// Why `open` could not connect to one address.
    enum ConnectFailure: Error {
        case failed(String)
        case timedOut
    }

    /// Connects to `address` on `loop`, by `deadline`.
    static func open(
        to address: SocketAddress, endpoint: String, on loop: EventLoop, by deadline: Deadline,
        maxHeadBytes: Int = 64 << 10
    ) async -> Result<HTTPClientConnection, ConnectFailure> {
        let opened: Result<HTTPClientConnection, ConnectFailure> = await withCheckedContinuation { continuation in
            loop.execute {
                let fd: Int32
                do {
                    fd = try Socket.startConnect(to: address)
                } catch {
                    let code = (error as? SocketError)?.code ?? EINVAL
                    continuation.resume(returning: .failure(.failed(String(cString: strerror(code)))))
                    return
                }
                let connection = HTTPClientConnection(
                    fd: fd, endpoint: endpoint, loop: loop, maxHeadBytes: maxHeadBytes, state: .idle)
                connection.startConnecting(by: deadline) { failure in
                    if let failure {
                        continuation.resume(returning: .failure(failure))
                    } else {
                        continuation.resume(returning: .success(connection))
                    }
                }
            }
        }
        return opened
    }

    /// Loop thread: waits for the socket to turn writable (connected or failed) or the deadline.
    private func startConnecting(by deadline: Deadline, done: @escaping (ConnectFailure?) -> Void) {
        let timer = loop.schedule(at: deadline.nanoseconds) { [self] in
            guard case .connecting = state else { return }
            closeOnLoop()
            done(.timedOut)
        }
        state = .connecting(done: done, timer: timer)
        do {
            try socket.register(self, events: CEPOLL_OUT)
        } catch {
            loop.cancelTimer(timer)
            closeOnLoop()
            done(.failed("epoll_ctl: \(error)"))
        }
    }

    // MARK: - one exchange

    /// Sends `request` and reads its answer, the body into `destination`. Any error closes the
    /// connection (its state is unknown), and a partly written file is removed.
    func exchange(
        _ request: HTTPClientRequest, into destination: HTTPClientBodyDestination,
        by deadline: Deadline
    ) async throws(HTTPClientError) -> HTTPClientResponse {
        isReusable = false
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<HTTPClientResponse, HTTPClientError>, Never>) in
            loop.execute { self.start(request, into: destination, by: deadline, continuation) }
        }
        return try result.get()
    }

    /// Loop thread: queues the request, starts watching the socket and the deadline.
    private func start(
        _ request: HTTPClientRequest, into destination: HTTPClientBodyDestination, by deadline: Deadline,
        _ continuation: CheckedContinuation<Result<HTTPClientResponse, HTTPClientError>, Never>
    ) {
        guard case .idle = state, !socket.isClosed else {
            continuation.resume(returning: .failure(.connectionClosed(beforeAnyResponseByte: true)))
            return
        }
        let sink: HTTPClientBodySink
        do throws(HTTPClientError) {
            sink = try HTTPClientBodySink(destination)
        } catch {
            closeOnLoop()
            continuation.resume(returning: .failure(error))
            return
        }
        socket.appendOutput { Self.encode(request, into: &$0) }
        let timer = loop.schedule(at: deadline.nanoseconds) { [self] in timedOut() }
        state = .exchanging(
            Exchange(
                decoder: HTTPClientResponseDecoder(expectsNoBody: request.expectsNoBody, maxHeadBytes: maxHeadBytes),
                sink: sink, deadline: deadline, timer: timer, continuation: continuation))
        do {
            try socket.register(self, events: CEPOLL_IN | CEPOLL_RDHUP)
        } catch {
            fail(.connectionClosed(beforeAnyResponseByte: true))
            return
        }
        writeRequest()
    }

    /// The request line, `Host`, the caller's fields, `Content-Length` when due, and the body.
    private static func encode(_ request: HTTPClientRequest, into out: inout [UInt8]) {
        var head = "\(request.method) \(request.target) HTTP/1.1\r\nHost: \(request.hostHeader)\r\n"
        // A line break in a field would split it into fields of the caller's choosing: left out.
        for (name, value) in request.headers where !(name + value).contains(where: { $0 == "\r" || $0 == "\n" }) {
            head += "\(name): \(value)\r\n"
        }
        if request.sendsContentLength { head += "Content-Length: \(request.body?.count ?? 0)\r\n" }
        head += "\r\n"
        out.append(contentsOf: head.utf8)
        if let body = request.body { out.append(contentsOf: body) }
    }

    // MARK: - readiness (loop thread)

    func handleEvents(_ events: UInt32) {
        switch state {
        case .connecting(let done, let timer):
            loop.cancelTimer(timer)
            if let failure = Socket.connectResult(socket.fd) {
                closeOnLoop()
                done(.failed(String(cString: strerror(failure.code))))
            } else {
                socket.deregister()
                state = .idle
                done(nil)
            }
        case .exchanging:
            if events & CEPOLL_OUT != 0 { writeRequest() }
            if events & (CEPOLL_IN | CEPOLL_RDHUP | CEPOLL_HUP | CEPOLL_ERR) != 0 { readAnswer() }
        case .idle, .closed:
            // Not watched in these states; a stale event after a change is ignored.
            break
        }
    }

    func loopStopped() {
        switch state {
        case .connecting(let done, _):
            closeOnLoop()
            done(.failed("the event loop stopped"))
        case .exchanging(let exchange):
            fail(.connectionClosed(beforeAnyResponseByte: !exchange.decoder.answerStarted))
        case .idle, .closed:
            break
        }
    }

    private func writeRequest() {
        guard case .exchanging(let exchange) = state else { return }
        switch socket.flush() {
        case .drained, .pending:
            socket.setInterest(CEPOLL_IN | CEPOLL_RDHUP)
        case .failed:
            fail(.connectionClosed(beforeAnyResponseByte: !exchange.decoder.answerStarted))
        }
    }

    private func readAnswer() {
        let buffer = loop.readBuffer
        // A bounded number of reads per wake-up keeps one large answer from starving the loop.
        for _ in 0..<16 {
            guard case .exchanging(var exchange) = state else { return }
            switch socket.read(into: buffer) {
            case .bytes(let count):
                exchange.decoder.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                state = .exchanging(exchange)
                decodeAnswer()
                if count < buffer.count { return }
            case .wouldBlock:
                return
            case .endOfFile:
                do throws(HTTPClientError) {
                    _ = try exchange.decoder.endOfInput()
                    state = .exchanging(exchange)
                    complete(peerClosed: true)
                } catch {
                    fail(error)
                }
                return
            case .failed:
                fail(.connectionClosed(beforeAnyResponseByte: !exchange.decoder.answerStarted))
                return
            }
        }
    }

    /// Runs the decoder over what arrived: body bytes to the sink, the head kept, the end
    /// completing the exchange.
    private func decodeAnswer() {
        guard case .exchanging(var exchange) = state else { return }
        do throws(HTTPClientError) {
            while let event = try exchange.decoder.next(body: { bytes throws(HTTPClientError) in
                try exchange.sink.append(bytes)
            }) {
                switch event {
                case .head(let head, _):
                    exchange.head = head
                case .end:
                    state = .exchanging(exchange)
                    complete(peerClosed: false)
                    return
                }
            }
            state = .exchanging(exchange)
        } catch {
            state = .exchanging(exchange)
            fail(error)
        }
    }

    private func complete(peerClosed: Bool) {
        guard case .exchanging(let exchange) = state, let head = exchange.head else { return }
        loop.cancelTimer(exchange.timer)
        let body: Data
        do throws(HTTPClientError) {
            body = try exchange.sink.finish()
        } catch {
            fail(error)
            return
        }
        completedExchanges += 1
        isReusable =
            head.keepsAlive && (exchange.decoder.framing?.endsOnItsOwn ?? false)
            && exchange.decoder.leftoverByteCount == 0 && !peerClosed && !socket.hasPendingOutput
        socket.deregister()
        state = .idle
        exchange.continuation.resume(
            returning: .success(
                HTTPClientResponse(status: head.status, reason: head.reason, headers: head.headers, body: body)))
    }

    private func timedOut() {
        guard case .exchanging(let exchange) = state else { return }
        let phase =
            if socket.hasPendingOutput {
                "request not fully sent"
            } else if !exchange.decoder.answerStarted {
                "no answer"
            } else if exchange.head == nil {
                "answer head incomplete"
            } else {
                "answer body incomplete"
            }
        fail(.timedOut("\(phase) within \(exchange.deadline.seconds) s"))
    }

    private func fail(_ error: HTTPClientError) {
        guard case .exchanging(let exchange) = state else { return }
        loop.cancelTimer(exchange.timer)
        exchange.sink.discard()
        closeOnLoop()
        exchange.continuation.resume(returning: .failure(error))
    }

    // MARK: - idle and closing

    /// Whether an idle connection still looks usable: nothing to read (an idle HTTP/1.1
    /// connection has nothing to say; readable means the server closed it or sent garbage).
    /// Called by the pool while nobody else holds the connection.
    var looksAlive: Bool {
        guard case .idle = state, !socket.isClosed else { return false }
        var pfd = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
        return poll(&pfd, 1, 0) == 0
    }

    /// Closes the connection (on its loop, soon). Safe from any thread.
    func close() {
        loop.execute { [self] in closeOnLoop() }
    }

    private func closeOnLoop() {
        state = .closed
        socket.close()
    }
}
