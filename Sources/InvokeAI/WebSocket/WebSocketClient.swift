import CEpoll
import Digests
import Foundation
import HTTPCore
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// A small RFC 6455 client (plain `ws://` only) driven by an event loop, like every other
/// connection: no thread waits on its socket.
///
/// Frames are read and decoded on the loop; pings are answered there, a close frame is echoed
/// and ends the connection, a protocol violation closes with the right code. Text and binary
/// messages wait in an inbox for `receive`, which any task may await (one at a time); `send`
/// may be called from anywhere and is written in call order.
///
/// States: `connecting` → `handshaking` → `open` → `closed`.
public final class WebSocketClient: EventLoopHandler, @unchecked Sendable {
    public struct Options: Sendable {
        public var connectTimeout: Double = 5
        public var handshakeTimeout: Double = 5
        /// Largest single frame and largest reassembled message accepted.
        public var maxMessageBytes: Int = 16 << 20
        public var maxHandshakeBytes: Int = 16 << 10
        /// Queued output that stops moving for this long ends the connection (the peer stopped reading).
        public var sendTimeout: Double = 10
        public init() {}
    }

    static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    private let socket: SocketConnection
    private var loop: EventLoop { socket.loop }
    private let options: Options
    // Everything below: loop thread only.
    private var state: State
    private var codec: WebSocketFrameCodec
    private var assembler: WebSocketMessageAssembler
    private var handshakeHead: [UInt8] = []
    private var inbox: [WebSocketMessage] = []
    /// Why the connection ended, once it has: what every later `receive` and `send` throws.
    private var ending: WebSocketError?
    private var receiver: Receiver?
    private var closeSent = false
    /// When the last frame of any kind arrived (monotonic nanoseconds): a ping counts as life.
    private var lastFrameAt: UInt64 = 0
    private var sendCheckTimer: UInt64?
    /// Reading stops while the inbox is full and resumes once a receiver has taken half of it:
    /// a slow consumer holds InvokeAI back through TCP instead of growing memory.
    private var readingPaused = false
    static let maxInboxMessages = 1024

    /// Paused: nothing asked (epoll still reports a hang-up or an error, which is read at once).
    private var readInterest: UInt32 { readingPaused ? 0 : CEPOLL_IN | CEPOLL_RDHUP }

    private enum State {
        case connecting(CheckedContinuation<WebSocketError?, Never>, timer: UInt64, handshake: [UInt8], key: String)
        case handshaking(CheckedContinuation<WebSocketError?, Never>, timer: UInt64, key: String)
        case open
        case closed
    }

    /// The task waiting in `receive`, with its silence limit.
    private struct Receiver {
        var continuation: CheckedContinuation<Result<WebSocketMessage, WebSocketError>, Never>
        var timeout: Double?
        var timer: UInt64?
    }

    private init(fd: Int32, loop: EventLoop, options: Options, state: State) {
        socket = SocketConnection(fd: fd, loop: loop)
        self.options = options
        self.state = state
        codec = WebSocketFrameCodec(maxFramePayload: options.maxMessageBytes, expectMasked: false)
        assembler = WebSocketMessageAssembler(maxMessageBytes: options.maxMessageBytes)
    }

    // MARK: - connecting

    /// Connects, upgrades `path` to a WebSocket and checks `Sec-WebSocket-Accept`.
    /// `headers` are added to the upgrade request (e.g. `Authorization`).
    public static func connect(
        host: String, port: Int, path: String, headers: [(String, String)] = [],
        options: Options = Options()
    ) async throws(WebSocketError) -> WebSocketClient {
        try await connect(
            host: host, port: port, path: path, headers: headers, options: options, on: EventLoopGroup.shared.next())
    }

    package static func connect(
        host: String, port: Int, path: String, headers: [(String, String)] = [],
        options: Options = Options(), on loop: EventLoop
    ) async throws(WebSocketError) -> WebSocketClient {
        let addresses: [SocketAddress]
        do {
            // Name resolution blocks (getaddrinfo): on the caller's task, never on a loop.
            addresses = try SocketAddress.resolve(host: host, port: port, passive: false)
        } catch {
            throw .io("cannot resolve \(host): \(error)")
        }
        let key = randomKey()
        let request = Array(upgradeRequest(host: host, port: port, path: path, headers: headers, key: key).utf8)
        let connectDeadline = Deadline.after(options.connectTimeout)
        var lastError = WebSocketError.io("connect to \(host):\(port): no address")
        for address in addresses {
            let fd: Int32
            do {
                fd = try Socket.startConnect(to: address)
            } catch {
                lastError = .io("connect to \(host):\(port): \(error)")
                continue
            }
            let client = WebSocketClient(fd: fd, loop: loop, options: options, state: .closed)
            let failure = await withCheckedContinuation { (continuation: CheckedContinuation<WebSocketError?, Never>) in
                loop.execute { client.startConnecting(continuation, by: connectDeadline, request: request, key: key) }
            }
            guard let failure else { return client }
            lastError = failure
            // Only a refused or unreachable address lets the next one be tried.
            if case .io = failure, !client.handshakeStarted { continue }
            throw failure
        }
        throw lastError
    }

    private var handshakeStarted = false

    private func startConnecting(
        _ continuation: CheckedContinuation<WebSocketError?, Never>, by deadline: Deadline, request: [UInt8],
        key: String
    ) {
        let timer = loop.schedule(at: deadline.nanoseconds) { [self] in
            guard case .connecting = state else { return }
            end(.timedOut("connect after \(options.connectTimeout) s"))
        }
        state = .connecting(continuation, timer: timer, handshake: request, key: key)
        do {
            try socket.register(self, events: CEPOLL_OUT)
        } catch {
            end(.io("epoll_ctl: \(error)"))
        }
    }

    /// The socket connected: send the upgrade request and wait for the answer head.
    private func connected() {
        guard case .connecting(let continuation, let timer, let request, let key) = state else { return }
        if let failure = Socket.connectResult(socket.fd) {
            end(.io("connect: \(String(cString: strerror(failure.code)))"))
            return
        }
        loop.cancelTimer(timer)
        handshakeStarted = true
        let handshakeTimer = loop.schedule(
            at: MonotonicClock.now() + MonotonicClock.nanoseconds(seconds: options.handshakeTimeout)
        ) {
            [self] in
            guard case .handshaking = state else { return }
            end(.timedOut("no handshake answer within \(options.handshakeTimeout) s"))
        }
        state = .handshaking(continuation, timer: handshakeTimer, key: key)
        socket.enqueue(request)
        flush()
        socket.setInterest(readInterest)
    }

    /// The answer head arrived whole: checked, and the bytes after it are the first frames.
    private func handshakeAnswered(headEnd: Int) {
        guard case .handshaking(let continuation, let timer, let key) = state else { return }
        let head = Array(handshakeHead[..<headEnd])
        let rest = handshakeHead[(headEnd + 4)...]
        handshakeHead = []
        do throws(WebSocketError) {
            try Self.checkUpgrade(head, key: key)
        } catch {
            end(error)
            return
        }
        loop.cancelTimer(timer)
        state = .open
        lastFrameAt = MonotonicClock.now()
        continuation.resume(returning: nil)
        if !rest.isEmpty {
            rest.withUnsafeBytes { codec.append($0) }
            decodeFrames()
        }
    }

    // MARK: - readiness (loop thread)

    public func handleEvents(_ events: UInt32) {
        loop.assertInLoop()
        if case .connecting = state {
            connected()
            return
        }
        if events & CEPOLL_OUT != 0 { flush() }
        if events & (CEPOLL_HUP | CEPOLL_ERR) != 0 {
            // The peer is gone: read what is left (bounded by the socket's buffer) to its end.
            readAvailable(evenIfPaused: true)
        } else if events & (CEPOLL_IN | CEPOLL_RDHUP) != 0 {
            readAvailable(evenIfPaused: false)
        }
    }

    public func loopStopped() {
        end(.io("the event loop stopped"))
    }

    private func readAvailable(evenIfPaused: Bool) {
        let buffer = loop.readBuffer
        for _ in 0..<16 {
            switch state {
            case .handshaking, .open: if readingPaused && !evenIfPaused { return }
            case .connecting, .closed: return
            }
            switch socket.read(into: buffer) {
            case .bytes(let count):
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                if case .handshaking = state {
                    let searchFrom = max(0, handshakeHead.count - 3)
                    handshakeHead.append(contentsOf: bytes)
                    if let end = Self.find([13, 10, 13, 10], in: handshakeHead, from: searchFrom) {
                        handshakeAnswered(headEnd: end)
                    } else if handshakeHead.count > options.maxHandshakeBytes {
                        failHandshake(.handshakeFailed("answer head over \(options.maxHandshakeBytes) bytes"))
                    }
                } else {
                    codec.append(bytes)
                    decodeFrames()
                }
                if inbox.count >= Self.maxInboxMessages, !evenIfPaused {
                    readingPaused = true
                    socket.setInterest(readInterest)
                    return
                }
                if count < buffer.count { return }
            case .wouldBlock:
                return
            case .endOfFile:
                if case .handshaking = state {
                    failHandshake(.handshakeFailed("connection closed during the handshake"))
                } else {
                    end(.io("connection closed without a close frame"))
                }
                return
            case .failed(let code):
                let error = WebSocketError.io("read: \(String(cString: strerror(code)))")
                if case .handshaking = state { failHandshake(error) } else { end(error) }
                return
            }
        }
    }

    private func failHandshake(_ error: WebSocketError) {
        end(error)
    }

    /// Decodes every complete frame: control frames answered here, messages to the inbox.
    private func decodeFrames() {
        do throws(WebSocketError) {
            while case .open = state, let frame = try codec.nextFrame() {
                lastFrameAt = MonotonicClock.now()
                guard let message = try assembler.push(frame) else { continue }
                switch message {
                case .text, .binary:
                    inbox.append(message)
                case .ping(let payload):
                    queue(WebSocketFrame(opcode: .pong, payload: payload))
                case .pong:
                    break
                case .close(let code, let reason):
                    // Echo the close (§5.5.1), then the connection is done.
                    queue(code.map { WebSocketFrame.close(code: $0) } ?? WebSocketFrame(opcode: .close))
                    flush()
                    end(.closed(code: code, reason: reason))
                }
            }
        } catch {
            if case .protocolViolation(_, let code) = error {
                queue(.close(code: code))
                flush()
            }
            end(error)
        }
        deliver()
    }

    // MARK: - receiving

    /// The next text or binary message. Waits at most `timeout` seconds (nil: no limit) for
    /// *any* frame; pings are answered and pongs skipped, but both count as life.
    public func receive(timeout: Double?) async throws(WebSocketError) -> WebSocketMessage {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<WebSocketMessage, WebSocketError>, Never>) in
            loop.execute { [self] in
                precondition(receiver == nil, "one receive at a time")
                lastFrameAt = max(lastFrameAt, MonotonicClock.now())
                receiver = Receiver(continuation: continuation, timeout: timeout)
                armReceiveTimer()
                deliver()
            }
        }
        return try result.get()
    }

    /// Hands the oldest message, or the connection's end, to a waiting receiver.
    private func deliver() {
        guard let receiver else { return }
        let result: Result<WebSocketMessage, WebSocketError>
        if !inbox.isEmpty {
            result = .success(inbox.removeFirst())
            if readingPaused, inbox.count <= Self.maxInboxMessages / 2 {
                readingPaused = false
                socket.setInterest(readInterest)
            }
        } else if let ending {
            result = .failure(ending)
        } else {
            return
        }
        if let timer = receiver.timer { loop.cancelTimer(timer) }
        self.receiver = nil
        receiver.continuation.resume(returning: result)
    }

    /// Times the receiver out once no frame came for its timeout; any frame moves the limit on.
    private func armReceiveTimer() {
        guard let timeout = receiver?.timeout else { return }
        let limit = lastFrameAt + MonotonicClock.nanoseconds(seconds: timeout)
        receiver?.timer = loop.schedule(at: limit) { [self] in
            guard let waiting = receiver else { return }
            if MonotonicClock.now() >= lastFrameAt + MonotonicClock.nanoseconds(seconds: timeout) {
                receiver = nil
                waiting.continuation.resume(
                    returning: .failure(.timedOut("no frame within \(String(format: "%.1f", timeout)) s")))
            } else {
                armReceiveTimer()
            }
        }
    }

    /// Messages decoded and not yet received (tests).
    func bufferedMessageCount() throws -> Int { try loop.runAndWait { self.inbox.count } }

    // MARK: - sending

    public func send(text: String) async throws(WebSocketError) {
        try await sendFrame(WebSocketFrame(opcode: .text, payload: Array(text.utf8)))
    }

    /// Queues one frame, masked with a fresh key, and starts sending it. Throws if the
    /// connection has ended; a peer that stops reading ends it after `sendTimeout`.
    public func sendFrame(_ frame: WebSocketFrame) async throws(WebSocketError) {
        let failure = await withCheckedContinuation { (continuation: CheckedContinuation<WebSocketError?, Never>) in
            loop.execute { [self] in
                guard case .open = state, ending == nil, !closeSent else {
                    continuation.resume(returning: ending ?? .io("connection already closed"))
                    return
                }
                queue(frame)
                flush()
                continuation.resume(returning: nil)
            }
        }
        if let failure { throw failure }
    }

    private func queue(_ frame: WebSocketFrame) {
        guard !closeSent else { return }
        if frame.opcode == .close { closeSent = true }
        socket.enqueue(WebSocketFrameCodec.encode(frame, mask: WebSocketFrameCodec.randomMask()))
    }

    private func flush() {
        guard !socket.isClosed else { return }
        switch socket.flush() {
        case .drained:
            if let timer = sendCheckTimer { loop.cancelTimer(timer) }
            sendCheckTimer = nil
        case .pending:
            armSendCheck()
        case .failed:
            end(.io("send: connection reset"))
            return
        }
        socket.setInterest(readInterest)
    }

    /// Queued output that makes no progress for `sendTimeout` ends the connection.
    private func armSendCheck() {
        guard sendCheckTimer == nil else { return }
        let timeout = Duration.milliseconds(Int64(options.sendTimeout * 1000))
        sendCheckTimer = loop.schedule(
            at: socket.lastWriteProgress + MonotonicClock.nanoseconds(seconds: options.sendTimeout)
        ) {
            [self] in
            sendCheckTimer = nil
            guard socket.hasPendingOutput else { return }
            if socket.writeStalled(now: MonotonicClock.now(), timeout: timeout) {
                end(.timedOut("send blocked (peer not reading)"))
            } else {
                armSendCheck()
            }
        }
    }

    // MARK: - ending

    /// Sends a close frame (best effort) and ends the connection.
    public func close(code: UInt16 = 1000, reason: String = "") {
        loop.execute { [self] in
            if case .open = state {
                queue(.close(code: code, reason: reason))
                flush()
            }
            end(.closed(code: code, reason: reason))
        }
    }

    /// Ends the connection without a close frame; a waiting `receive` throws at once.
    public func shutdown() {
        loop.execute { [self] in end(.io("connection shut down")) }
    }

    /// Loop thread: the connection is over (the first reason stays). A connect or handshake
    /// still under way fails with it.
    private func end(_ error: WebSocketError) {
        if ending == nil { ending = error }
        let previous = state
        state = .closed
        switch previous {
        case .connecting(let continuation, let timer, _, _), .handshaking(let continuation, let timer, _):
            loop.cancelTimer(timer)
            continuation.resume(returning: ending)
        case .open:
            break
        case .closed:
            if socket.isClosed { return }
        }
        if let timer = sendCheckTimer { loop.cancelTimer(timer) }
        sendCheckTimer = nil
        socket.close()
        deliver()
    }

    // MARK: - the handshake

    private static func randomKey() -> String {
        var keyBytes = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for i in keyBytes.indices { keyBytes[i] = generator.next() }
        return Data(keyBytes).base64EncodedString()
    }

    private static func upgradeRequest(host: String, port: Int, path: String, headers: [(String, String)], key: String)
        -> String
    {
        var request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        for (name, value) in headers
        where !name.contains("\r") && !name.contains("\n") && !value.contains("\r") && !value.contains("\n") {
            request += "\(name): \(value)\r\n"
        }
        return request + "\r\n"
    }

    /// Checks the handshake's answer head (without its empty line): 101, `Upgrade: websocket`,
    /// `Connection: Upgrade`, the accept value for `key`, no extensions (RFC 6455 §4.1).
    static func checkUpgrade(_ headBytes: [UInt8], key: String) throws(WebSocketError) {
        let head: HTTPResponseHead
        do throws(HTTPResponseHeadError) {
            head = try HTTPResponseHead(parsing: headBytes)
        } catch {
            switch error {
            case .invalidStatusLine(let line): throw .handshakeFailed("not an HTTP answer: \(line.prefix(100))")
            case .invalidFieldLine(let line): throw .handshakeFailed("header line \(line.prefix(80).debugDescription)")
            }
        }
        guard head.status == 101 else {
            let statusLine =
                head.reason.isEmpty ? "\(head.version) \(head.status)" : "\(head.version) \(head.status) \(head.reason)"
            throw .handshakeFailed("server answered \(statusLine.prefix(200))")
        }
        let fields = head.headers
        guard fields.combinedValue("Upgrade")?.lowercased() == "websocket" else {
            throw .handshakeFailed("Upgrade is \(fields.combinedValue("Upgrade") ?? "missing")")
        }
        guard fields.tokens("Connection").contains("upgrade") else {
            throw .handshakeFailed("Connection is \(fields.combinedValue("Connection") ?? "missing")")
        }
        let expected = Self.acceptValue(forKey: key)
        let accept = fields.combinedValue("Sec-WebSocket-Accept")
        guard accept == expected else {
            throw .handshakeFailed("Sec-WebSocket-Accept \(accept ?? "missing"), expected \(expected)")
        }
        if let ext = fields.combinedValue("Sec-WebSocket-Extensions"), !ext.isEmpty {
            throw .handshakeFailed("unrequested extensions \(ext)")
        }
    }

    /// base64(SHA-1(key + GUID)), RFC 6455 §4.2.2.
    public static func acceptValue(forKey key: String) -> String {
        Data(SHA1.digest(Array((key + acceptGUID).utf8))).base64EncodedString()
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = start
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0] && Array(haystack[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }

}
