import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The tests' one socket client: a blocking TCP connection to a loopback server that sends exact
/// bytes and reads through one buffer, every read bounded by a timeout (and an optional deadline),
/// so a server that hangs fails the test instead of hanging it. It reads lines, exact counts, up to
/// a delimiter or to the end, and HTTP/1.1 answers (head, chunks, whole responses). The request
/// helper (`TestHTTP`), the server-sent-events reader (`SSETestClient`) and the HTTP/2 frame
/// client are layers over it.
public final class TestSocket: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// One HTTP/1.1 answer as read.
    public struct Response: Sendable {
        public var status: Int
        public var reason: String
        /// The header fields as received, in order.
        public var fields: [(name: String, value: String)]
        public var body: [UInt8]

        public var text: String { String(decoding: body, as: UTF8.self) }
        /// The first field of that name, in any case.
        public func header(_ name: String) -> String? {
            fields.first { $0.name.lowercased() == name.lowercased() }?.value
        }
        /// Field names in lower case; repeated fields joined with ", ".
        public var headers: [String: String] {
            var headers: [String: String] = [:]
            for (name, value) in fields {
                headers[name.lowercased()] = headers[name.lowercased()].map { $0 + ", " + value } ?? value
            }
            return headers
        }

        // URLSession's shapes, so a test reads the same with either.
        public var statusCode: Int { status }
        public var allHeaderFields: [String: String] { headers }
        public func value(forHTTPHeaderField name: String) -> String? { headers[name.lowercased()] }
    }

    public let fd: Int32
    /// The longest wait for the next bytes of any read.
    public let timeout: Duration
    /// When set, reads give up at this instant too, however often bytes arrive.
    public var deadline: ContinuousClock.Instant?
    /// Whether a reset by the peer counts as its closing the connection (a server that closes with
    /// input unread resets it) or fails the read (an answer that must end cleanly).
    public let resetIsClose: Bool
    /// Bytes read and not yet consumed.
    public private(set) var buffered: [UInt8] = []
    private var isOpen = true

    /// Connects to `host` (an IPv4 or IPv6 address, or `localhost`) on `port`. `timeout` bounds
    /// each read and each write; `receiveBuffer` sets SO_RCVBUF before connecting.
    public init(
        host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(30), receiveBuffer: Int? = nil,
        resetIsClose: Bool = true
    ) throws {
        self.timeout = timeout
        self.resetIsClose = resetIsClose
        fd = try Self.connected(host: host, port: port, timeout: timeout, receiveBuffer: receiveBuffer)
    }

    /// A descriptor connected to `host`:`port`, or an error (and no descriptor left open).
    private static func connected(host: String, port: Int, timeout: Duration, receiveBuffer: Int?) throws -> Int32 {
        let address = host == "localhost" ? "127.0.0.1" : host
        let isV6 = address.contains(":")
        let fd = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
        do {
            if let receiveBuffer {
                var size = Int32(receiveBuffer)
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
            var time = timeval(
                tv_sec: Int(timeout.components.seconds),
                tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            let status: Int32
            if isV6 {
                var socketAddress = sockaddr_in6()
                socketAddress.sin6_family = sa_family_t(AF_INET6)
                socketAddress.sin6_port = in_port_t(UInt16(port).bigEndian)
                guard inet_pton(AF_INET6, address, &socketAddress.sin6_addr) == 1 else {
                    throw Failure("not an IPv6 address: \(host)")
                }
                status = withUnsafePointer(to: &socketAddress) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                    }
                }
            } else {
                var socketAddress = sockaddr_in()
                socketAddress.sin_family = sa_family_t(AF_INET)
                socketAddress.sin_port = in_port_t(UInt16(port).bigEndian)
                guard inet_pton(AF_INET, address, &socketAddress.sin_addr) == 1 else {
                    throw Failure("not an IPv4 address: \(host)")
                }
                status = withUnsafePointer(to: &socketAddress) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            guard status == 0 else { throw Failure("connect to \(host):\(port): errno \(errno)") }
            return fd
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    deinit { if isOpen { Glibc.close(fd) } }

    /// Drops the connection (a client that goes away).
    public func close() {
        guard isOpen else { return }
        isOpen = false
        Glibc.close(fd)
    }

    /// Half-closes: the server reads the end of the request stream; reading goes on.
    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    // MARK: - writing

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Writes all of `bytes` (never raising SIGPIPE).
    public func send(_ bytes: [UInt8]) throws {
        guard isOpen else { throw Failure("send on a closed connection") }
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { throw Failure("send: errno \(errno) after \(offset) of \(bytes.count) bytes") }
            offset += sent
        }
    }

    // MARK: - reading

    /// What one read brought.
    private enum Arrival { case bytes, closed, reset }

    /// Waits for the next bytes and appends them to `buffered`; throws when none came within the
    /// timeout or before the deadline.
    private func receive() throws -> Arrival {
        guard isOpen else { throw Failure("read on a closed connection") }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            var wait = timeout
            if let deadline {
                let left = deadline - ContinuousClock.now
                guard left > .zero else { throw Failure("timed out: the read's deadline passed") }
                wait = min(wait, left)
            }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(wait / .milliseconds(1)) + 1)
            if ready < 0 && errno == EINTR { continue }
            guard ready >= 0 else { throw Failure("poll: errno \(errno)") }
            guard ready > 0 else { throw Failure("timed out waiting for the server (\(wait))") }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffered += chunk[0..<count]
                return .bytes
            }
            if count == 0 { return .closed }
            switch errno {
            case EINTR, EAGAIN: continue
            case ECONNRESET: return .reset
            default: throw Failure("recv: errno \(errno) with \(buffered.count) bytes unread")
            }
        }
    }

    /// Reads more into `buffered`; false when the server closed the connection (or reset it, when
    /// that counts as closing).
    public func fill() throws -> Bool {
        switch try receive() {
        case .bytes: return true
        case .closed: return false
        case .reset:
            if resetIsClose { return false }
            throw Failure("connection reset by the server with \(buffered.count) bytes unread")
        }
    }

    /// Reads until at least `count` bytes are buffered; false when the connection ended first.
    public func fill(toAtLeast count: Int) throws -> Bool {
        while buffered.count < count { guard try fill() else { return false } }
        return true
    }

    /// Takes `count` buffered bytes (at most what is buffered) off the front.
    public func take(_ count: Int) -> [UInt8] {
        let taken = Array(buffered.prefix(count))
        buffered.removeFirst(taken.count)
        return taken
    }

    /// The next `count` bytes; nil when the connection ended first.
    public func read(count: Int) throws -> [UInt8]? {
        guard try fill(toAtLeast: count) else { return nil }
        return take(count)
    }

    /// The next `count` bytes; throws when the connection ended first.
    public func read(exactly count: Int) throws -> [UInt8] {
        guard let bytes = try read(count: count) else {
            throw Failure("connection closed after \(buffered.count) of \(count) bytes")
        }
        return bytes
    }

    /// The bytes before the next `delimiter` (which is read too); nil when the connection ended
    /// first.
    public func read(until delimiter: [UInt8]) throws -> [UInt8]? {
        var searched = 0
        while true {
            if let found = buffered[searched...].firstRange(of: delimiter) {
                let bytes = Array(buffered[..<found.lowerBound])
                buffered.removeFirst(found.upperBound)
                return bytes
            }
            searched = max(0, buffered.count - delimiter.count + 1)
            guard try fill() else { return nil }
        }
    }

    /// The next line, without its LF or CRLF; throws when the connection ended first.
    public func readLine() throws -> String {
        guard var line = try read(until: [0x0A]) else { throw Failure("connection closed mid-line") }
        if line.last == 0x0D { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
    }

    /// Everything until the server closes the connection.
    public func readToEnd() throws -> [UInt8] {
        while try fill() {}
        return take(buffered.count)
    }

    /// True when the server closed the connection (EOF, or a reset when that counts as closing)
    /// within the timeout, with nothing unread before it.
    public func isClosedByServer() -> Bool {
        guard buffered.isEmpty else { return false }
        return (try? fill()) == false
    }

    // MARK: - HTTP/1.1 answers

    /// Reads only the status line and header fields.
    public func readHead() throws -> Response {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw Failure("bad status line: \(statusLine)")
        }
        var fields: [(name: String, value: String)] = []
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw Failure("bad header line: \(line)") }
            fields.append(
                (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return Response(status: status, reason: parts.count > 2 ? String(parts[2]) : "", fields: fields, body: [])
    }

    /// Reads one whole answer: by Content-Length, chunked, or to the end of the connection. `head`
    /// says the request was HEAD (no body follows); an interim (1xx) answer is returned as it is.
    public func readResponse(head: Bool = false) throws -> Response {
        var response = try readHead()
        if head || response.status < 200 || response.status == 204 || response.status == 304 { return response }
        if let length = response.header("Content-Length"), let count = Int(length) {
            response.body = try read(exactly: count)
        } else if response.header("Transfer-Encoding")?.lowercased() == "chunked" {
            response.body = try readChunkedBody()
        } else {
            response.body = try readToEnd()
        }
        return response
    }

    /// The next chunk of a chunked body: its bytes, empty for the last chunk (its trailer fields
    /// read too), nil when the connection ended first.
    public func nextChunk() throws -> [UInt8]? {
        guard var sizeLine = try read(until: [0x0D, 0x0A]) else { return nil }
        if let extensions = sizeLine.firstIndex(of: UInt8(ascii: ";")) { sizeLine.removeSubrange(extensions...) }
        let sizeText = String(decoding: sizeLine, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        guard let size = Int(sizeText, radix: 16) else { throw Failure("bad chunk size '\(sizeText)'") }
        if size == 0 {
            while true {
                guard let trailer = try read(until: [0x0D, 0x0A]) else { return nil }
                if trailer.isEmpty { return [] }
            }
        }
        guard let data = try read(count: size + 2) else { return nil }
        guard data.suffix(2) == [0x0D, 0x0A] else { throw Failure("chunk not followed by CRLF") }
        return Array(data.prefix(size))
    }

    /// The next chunk of a chunked body (empty for the last); throws when the connection ended first.
    public func readChunk() throws -> [UInt8] {
        guard let chunk = try nextChunk() else { throw Failure("connection closed mid-chunk") }
        return chunk
    }

    /// The rest of a chunked body.
    public func readChunkedBody() throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let chunk = try readChunk()
            if chunk.isEmpty { return body }
            body += chunk
        }
    }
}

/// A loopback port bound but never listening: connecting to it is refused while it is held.
public final class RefusingPort: @unchecked Sendable {
    public let port: Int
    private let fd: Int32
    private var isOpen = true

    public init() throws { (fd, port) = try bindLoopbackPort(listening: false) }

    deinit { close() }

    /// Gives the port up (anyone may bind it again).
    public func close() {
        guard isOpen else { return }
        isOpen = false
        Glibc.close(fd)
    }
}

/// A socket bound to a free loopback port (and listening, when asked): its descriptor and port.
func bindLoopbackPort(listening: Bool) throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSocket.Failure("socket: errno \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0, !listening || listen(fd, 512) == 0 else {
        Glibc.close(fd)
        throw TestSocket.Failure("bind/listen: errno \(errno)")
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}
