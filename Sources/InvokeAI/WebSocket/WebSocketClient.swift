import Foundation
import HTTPCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small RFC 6455 client on a blocking POSIX socket (plain `ws://` only).
///
/// One thread reads (`receive`), any thread may send (sends are serialized by a lock).
/// `receive` answers pings itself, answers a close frame and reports it as
/// `WebSocketError.closed`, and closes with the right code on a protocol violation.
/// Reads wait with `poll`, so every wait is bounded; `shutdown()` from another thread
/// wakes a blocked reader at once.
public final class WebSocketClient: @unchecked Sendable {
    public struct Options: Sendable {
        public var connectTimeout: Double = 5
        public var handshakeTimeout: Double = 5
        /// Largest single frame and largest reassembled message accepted.
        public var maxMessageBytes: Int = 16 << 20
        public var maxHandshakeBytes: Int = 16 << 10
        /// A blocked send gives up after this long (the peer stopped reading).
        public var sendTimeout: Double = 10
        public init() {}
    }

    static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    private let fd: Int32
    private var codec: WebSocketFrameCodec // reader thread only
    private var assembler: WebSocketMessageAssembler // reader thread only
    private let sendLock = NSLock()
    private var closeSent = false // under sendLock
    private var isShutdown = false // under sendLock
    private var readBuffer = [UInt8](repeating: 0, count: 64 << 10)

    /// Connects, upgrades `path` to a WebSocket and checks `Sec-WebSocket-Accept`.
    /// `headers` are added to the upgrade request (e.g. `Authorization`).
    public static func connect(
        host: String, port: Int, path: String, headers: [(String, String)] = [],
        options: Options = Options()
    ) throws(WebSocketError) -> WebSocketClient {
        let fd = try openSocket(host: host, port: port, timeout: options.connectTimeout)
        let client = WebSocketClient(fd: fd, options: options)
        do {
            try client.handshake(host: host, port: port, path: path, headers: headers, options: options)
        } catch {
            client.shutdown()
            throw error
        }
        return client
    }

    private init(fd: Int32, options: Options) {
        self.fd = fd
        codec = WebSocketFrameCodec(maxFramePayload: options.maxMessageBytes, expectMasked: false)
        assembler = WebSocketMessageAssembler(maxMessageBytes: options.maxMessageBytes)
        var timeout = timeval(
            tv_sec: Int(options.sendTimeout),
            tv_usec: Int((options.sendTimeout.truncatingRemainder(dividingBy: 1)) * 1_000_000))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        Glibc.close(fd)
    }

    // MARK: - receiving

    /// The next text or binary message. Waits at most `timeout` seconds (nil: no limit) for
    /// *any* frame; pings are answered and pongs skipped, but both count as life.
    public func receive(timeout: Double?) throws(WebSocketError) -> WebSocketMessage {
        let deadline = timeout.map { MonotonicClock.seconds() + $0 }
        while true {
            do {
                while let frame = try codec.nextFrame() {
                    guard let message = try assembler.push(frame) else { continue }
                    switch message {
                    case .text, .binary: return message
                    case .ping(let payload): try? sendFrame(WebSocketFrame(opcode: .pong, payload: payload))
                    case .pong: break
                    case .close(let code, let reason):
                        // Echo the close (§5.5.1), then the connection is done.
                        try? sendFrame(code.map { WebSocketFrame.close(code: $0) } ?? WebSocketFrame(opcode: .close))
                        shutdown()
                        throw WebSocketError.closed(code: code, reason: reason)
                    }
                }
            } catch let error as WebSocketError {
                if case .protocolViolation(_, let code) = error {
                    try? sendFrame(.close(code: code))
                    shutdown()
                }
                throw error
            } catch {
                throw .io("\(error)")
            }
            try fill(deadline: deadline)
        }
    }

    /// Reads what the socket has into the codec, waiting until `deadline`.
    private func fill(deadline: Double?) throws(WebSocketError) {
        let remaining = deadline.map { max(0, $0 - MonotonicClock.seconds()) }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let timeoutMs = remaining.map { Deadline.pollTimeout(seconds: $0) } ?? -1
        let ready = poll(&pfd, 1, timeoutMs)
        if ready < 0 {
            if errno == EINTR { return }
            throw .io("poll: \(String(cString: strerror(errno)))")
        }
        if ready == 0 { throw .timedOut("no frame within \(remaining.map { String(format: "%.1f", $0) } ?? "?") s") }
        let count = readBuffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR || errno == EAGAIN { return }
            throw .io("read: \(String(cString: strerror(errno)))")
        }
        if count == 0 { throw .io("connection closed without a close frame") }
        readBuffer.withUnsafeBytes { codec.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    // MARK: - sending

    public func send(text: String) throws(WebSocketError) {
        try sendFrame(WebSocketFrame(opcode: .text, payload: Array(text.utf8)))
    }

    /// Sends one frame, masked with a fresh key. Thread-safe.
    public func sendFrame(_ frame: WebSocketFrame) throws(WebSocketError) {
        let bytes = WebSocketFrameCodec.encode(frame, mask: WebSocketFrameCodec.randomMask())
        sendLock.lock()
        defer { sendLock.unlock() }
        if isShutdown || closeSent { throw .io("connection already closed") }
        if frame.opcode == .close { closeSent = true }
        try writeAll(bytes)
    }

    private func writeAll(_ bytes: [UInt8]) throws(WebSocketError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw .timedOut("send blocked (peer not reading)") }
                throw .io("send: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// Sends a close frame (best effort) and shuts the socket down.
    public func close(code: UInt16 = 1000, reason: String = "") {
        try? sendFrame(.close(code: code, reason: reason))
        shutdown()
    }

    /// Ends the connection without a close frame; wakes a reader blocked in `receive`.
    public func shutdown() {
        sendLock.lock()
        defer { sendLock.unlock() }
        guard !isShutdown else { return }
        isShutdown = true
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    // MARK: - connecting

    private func handshake(host: String, port: Int, path: String, headers: [(String, String)], options: Options)
        throws(WebSocketError)
    {
        var keyBytes = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for i in keyBytes.indices { keyBytes[i] = generator.next() }
        let key = Data(keyBytes).base64EncodedString()
        var request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        for (name, value) in headers
        where !name.contains("\r") && !name.contains("\n") && !value.contains("\r") && !value.contains("\n") {
            request += "\(name): \(value)\r\n"
        }
        request += "\r\n"
        sendLock.lock()
        do { try writeAll(Array(request.utf8)) } catch { sendLock.unlock(); throw error }
        sendLock.unlock()

        let deadline = Deadline.after(options.handshakeTimeout)
        var head: [UInt8] = []
        let terminator: [UInt8] = [13, 10, 13, 10]
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if deadline.hasPassed { throw .timedOut("no handshake answer within \(options.handshakeTimeout) s") }
            let ready = poll(&pfd, 1, deadline.pollTimeout)
            if ready < 0 { if errno == EINTR { continue }; throw .io("poll: \(String(cString: strerror(errno)))") }
            if ready == 0 { continue }
            let count = readBuffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, 4096)) }
            if count < 0 { if errno == EINTR { continue }; throw .io("read: \(String(cString: strerror(errno)))") }
            if count == 0 { throw .handshakeFailed("connection closed during the handshake") }
            let searchFrom = max(0, head.count - 3)
            head += readBuffer[0..<count]
            if let end = Self.find(terminator, in: head, from: searchFrom) {
                codec.append(head[(end + 4)...])
                head.removeSubrange(end...)
                break
            }
            if head.count > options.maxHandshakeBytes {
                throw .handshakeFailed("answer head over \(options.maxHandshakeBytes) bytes")
            }
        }
        try Self.checkUpgrade(head, key: key)
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

    /// The socket, with connect failures told as this client's errors (as before the connector was shared).
    private static func openSocket(host: String, port: Int, timeout: Double) throws(WebSocketError) -> Int32 {
        do {
            return try TCPConnector(host: host, port: port).connect(timeout: timeout)
        } catch {
            switch error {
            case .unreachable(let why): throw .io(why)
            case .timedOut(let what): throw .timedOut(what)
            }
        }
    }
}
