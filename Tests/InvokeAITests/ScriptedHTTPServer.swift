import Foundation
import InvokeAI

#if canImport(Glibc)
import Glibc
#endif

/// A loopback HTTP server for client tests: each accepted connection follows a script of canned
/// raw answers (the Nth connection the Nth script, later ones `otherwise`), each on a thread of
/// its own, and every request it reads is recorded raw. Answers are bytes exactly as given, so a
/// test can send any framing, right or wrong. Call `stop()` when done (its threads hold it).
final class ScriptedHTTPServer: @unchecked Sendable {
    /// One thing to do on a connection, in order. When the script ends the connection is closed.
    enum Step: Sendable {
        /// Read the next request, then send these bytes.
        case answer(String)
        /// Read the next request, then send these bytes; again for every request until the client closes.
        case answerEvery(String)
        /// Read the next request and close without answering (a server closing a kept-alive
        /// connection just as a request arrives).
        case readAndClose
        /// Read the next request and never answer; the connection stays open until `stop()`.
        case readAndHold
        /// Keep the connection open, reading nothing, until `stop()`.
        case hold
        case pause(seconds: Double)
        /// Read a WebSocket upgrade request and accept it (101 with the right
        /// `Sec-WebSocket-Accept`), then send `then` (frames, unmasked as a server sends them).
        case acceptWebSocket(then: [UInt8])
        /// Send raw bytes.
        case send([UInt8])
        /// Record whatever arrives for this long (see `rawBytes`).
        case recordRaw(seconds: Double)
    }

    /// A request as read: which accepted connection (0-based) it came on, its head and body.
    struct Recorded: Sendable {
        var connection: Int
        var head: String
        var body: [UInt8]
    }

    let port: Int
    private let listener: Int32
    private let scripts: [[Step]]
    private let otherwise: [Step]
    private let lock = NSLock()
    private var recorded: [Recorded] = []
    private var raw: [UInt8] = []
    private var accepted = 0
    private var stopped = false

    init(scripts: [[Step]] = [], otherwise: [Step] = []) throws {
        self.scripts = scripts
        self.otherwise = otherwise
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 128) == 0 else { Glibc.close(fd); throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    var requests: [Recorded] { lock.withLock { recorded } }
    /// What `recordRaw` steps received, all connections together.
    var rawBytes: [UInt8] { lock.withLock { raw } }
    var acceptedConnections: Int { lock.withLock { accepted } }
    private var isStopped: Bool { lock.withLock { stopped } }

    /// Stops accepting; held connections are closed within a few milliseconds.
    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first { _ = shutdown(listener, Int32(SHUT_RDWR)) }
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    // MARK: - serving

    private func acceptLoop() {
        defer { Glibc.close(listener) }
        while !isStopped {
            var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 50) > 0 else { continue }
            let fd = accept(listener, nil, nil)
            if fd < 0 { continue }
            let index = lock.withLock { () -> Int in
                defer { accepted += 1 }
                return accepted
            }
            let script = index < scripts.count ? scripts[index] : otherwise
            Thread.detachNewThread { [self] in
                serve(fd, connection: index, script: script)
                Glibc.close(fd)
            }
        }
    }

    private func serve(_ fd: Int32, connection: Int, script: [Step]) {
        var pending: [UInt8] = []
        for step in script {
            switch step {
            case .answer(let raw):
                guard readRequest(fd, connection: connection, pending: &pending) else { return }
                write(raw, to: fd)
            case .answerEvery(let raw):
                while readRequest(fd, connection: connection, pending: &pending) { write(raw, to: fd) }
                return
            case .readAndClose:
                _ = readRequest(fd, connection: connection, pending: &pending)
                return
            case .readAndHold:
                guard readRequest(fd, connection: connection, pending: &pending) else { return }
                holdUntilStopped()
            case .hold:
                holdUntilStopped()
            case .pause(let seconds):
                Thread.sleep(forTimeInterval: seconds)
            case .acceptWebSocket(let then):
                guard readRequest(fd, connection: connection, pending: &pending) else { return }
                let head = requests.last?.head ?? ""
                let key =
                    head.split(separator: "\r\n").compactMap { line -> String? in
                        let parts = line.split(separator: ":", maxSplits: 1)
                        guard parts.count == 2, parts[0].lowercased() == "sec-websocket-key" else { return nil }
                        return parts[1].trimmingCharacters(in: .whitespaces)
                    }.first ?? ""
                let accept = WebSocketClient.acceptValue(forKey: key)
                write(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Accept: \(accept)\r\n\r\n", to: fd)
                write(then, to: fd)
            case .send(let bytes):
                write(bytes, to: fd)
            case .recordRaw(let seconds):
                let until = Date().addingTimeInterval(seconds)
                var received: [UInt8] = []
                while Date() < until, !isStopped {
                    var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&pfd, 1, 20) > 0 else { continue }
                    guard receive(fd, into: &received) else { break }
                }
                lock.withLock { raw += received }
            }
        }
    }

    private func holdUntilStopped() {
        while !isStopped { Thread.sleep(forTimeInterval: 0.01) }
    }

    /// Reads one request (head, then a body by Content-Length) and records it; false when the
    /// client closed first (or the server stopped).
    private func readRequest(_ fd: Int32, connection: Int, pending: inout [UInt8]) -> Bool {
        let terminator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        while true {
            if let end = Self.find(terminator, in: pending) { headEnd = end; break }
            guard receive(fd, into: &pending) else { return false }
        }
        let head = String(decoding: pending[..<headEnd!], as: UTF8.self)
        pending.removeFirst(headEnd! + 4)
        let length =
            head.split(separator: "\r\n").dropFirst().compactMap { line -> Int? in
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                return Int(parts[1].trimmingCharacters(in: .whitespaces))
            }.first ?? 0
        while pending.count < length {
            guard receive(fd, into: &pending) else { return false }
        }
        let body = Array(pending[..<length])
        pending.removeFirst(length)
        lock.withLock { recorded.append(Recorded(connection: connection, head: head, body: body)) }
        return true
    }

    /// Appends what arrives; false at the end of the stream or once stopped.
    private func receive(_ fd: Int32, into buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while !isStopped {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 50) > 0 else { continue }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return false }
            buffer += chunk[..<count]
            return true
        }
        return false
    }

    private func write(_ raw: String, to fd: Int32) {
        write(Array(raw.utf8), to: fd)
    }

    private func write(_ bytes: [UInt8], to fd: Int32) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written <= 0 { return }
            offset += written
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
