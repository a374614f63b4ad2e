import Foundation
import HTTPCore

#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 connection on a blocking socket, used by one thread at a time (the pool hands it
/// from owner to owner, never to two at once, hence `@unchecked Sendable`).
///
/// `exchange` writes one request and reads its whole answer; every wait is a `poll` bounded by
/// the exchange's deadline. The body is framed by Content-Length, chunked coding or the end of
/// the connection. Afterwards `isReusable` says whether another request may follow.
final class HTTPClientConnection: @unchecked Sendable {
    /// `host:port`, the pool's key.
    let endpoint: String
    /// Exchanges completed; above 0 the connection has been kept alive and reused.
    private(set) var completedExchanges = 0
    /// The last answer allows another request: HTTP/1.1 without `Connection: close` (or 1.0
    /// with `keep-alive`), its body framed and read to its exact end, nothing more sent after it.
    private(set) var isReusable = false
    /// When the pool last put it aside (monotonic seconds).
    var idleSince = 0.0

    private let fd: Int32
    private let maxHeadBytes: Int
    private var isClosed = false
    /// Bytes read but not consumed yet: `inbox[inboxStart...]`.
    private var inbox: [UInt8] = []
    private var inboxStart = 0
    private var readBuffer = [UInt8](repeating: 0, count: 64 << 10)
    /// Whether any byte of the current exchange's answer has arrived.
    private var answerStarted = false

    init(fd: Int32, endpoint: String, maxHeadBytes: Int = 64 << 10) {
        self.fd = fd
        self.endpoint = endpoint
        self.maxHeadBytes = maxHeadBytes
    }

    deinit { close() }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    /// Whether an idle connection still looks usable: nothing to read (an idle HTTP/1.1
    /// connection has nothing to say; readable means the server closed it or sent garbage).
    var looksAlive: Bool {
        guard !isClosed else { return false }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&pfd, 1, 0) == 0
    }

    // MARK: - one exchange

    /// Sends `request` and reads its answer, the body into `destination`. Any error closes the
    /// connection (its state is unknown), and a partly written file is removed.
    func exchange(
        _ request: HTTPClientRequest, into destination: HTTPClientBodyDestination,
        by deadline: Deadline
    ) throws(HTTPClientError) -> HTTPClientResponse {
        isReusable = false
        answerStarted = false
        do throws(HTTPClientError) {
            guard !isClosed else { throw HTTPClientError.connectionClosed(beforeAnyResponseByte: true) }
            try send(request, by: deadline)
            var head = try readHead(by: deadline)
            // Interim answers (100 Continue, 103 Early Hints) precede the real one.
            while (100..<200).contains(head.status) {
                if head.status == 101 { throw HTTPClientError.invalidResponse("unrequested protocol switch") }
                head = try readHead(by: deadline)
            }
            let framing = try Self.framing(of: head, for: request)
            let sink = try HTTPClientBodySink(destination)
            let body: Data
            do throws(HTTPClientError) {
                try readBody(framing, into: sink, by: deadline)
                body = try sink.finish()
            } catch {
                sink.discard()
                throw error
            }
            completedExchanges += 1
            isReusable = head.keepsAlive && framing.endsOnItsOwn && inboxStart == inbox.count
            return HTTPClientResponse(status: head.status, reason: head.reason, headers: head.headers, body: body)
        } catch {
            close()
            throw error
        }
    }

    // MARK: - writing

    private func send(_ request: HTTPClientRequest, by deadline: Deadline) throws(HTTPClientError) {
        var head = "\(request.method) \(request.target) HTTP/1.1\r\nHost: \(request.hostHeader)\r\n"
        // A line break in a field would split it into fields of the caller's choosing: left out.
        for (name, value) in request.headers where !(name + value).contains(where: { $0 == "\r" || $0 == "\n" }) {
            head += "\(name): \(value)\r\n"
        }
        if request.sendsContentLength { head += "Content-Length: \(request.body?.count ?? 0)\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        let body = request.body ?? Data()
        // Small bodies go out in the same segment as the head; large ones are not copied.
        if body.count <= 64 << 10 {
            bytes.append(contentsOf: body)
            try writeAll(bytes, by: deadline)
        } else {
            try writeAll(bytes, by: deadline)
            try writeAll(body, by: deadline)
        }
    }

    /// Writes every byte, waiting (until the deadline) while the socket's buffer is full.
    private func writeAll(_ bytes: some ContiguousBytes, by deadline: Deadline) throws(HTTPClientError) {
        var offset = 0
        let total = bytes.withUnsafeBytes(\.count)
        while offset < total {
            let written = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, total - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if written >= 0 { offset += written; continue }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: try wait(for: POLLOUT, by: deadline, phase: "request not fully sent")
            default: throw .connectionClosed(beforeAnyResponseByte: !answerStarted)
            }
        }
    }

    // MARK: - reading

    /// Waits until the socket is ready for `events`, or throws `timedOut(phase)` at the deadline.
    private func wait(for events: Int32, by deadline: Deadline, phase: String) throws(HTTPClientError) {
        while true {
            if deadline.hasPassed { throw .timedOut("\(phase) within \(deadline.seconds) s") }
            var pfd = pollfd(fd: fd, events: Int16(events), revents: 0)
            let ready = poll(&pfd, 1, deadline.pollTimeout)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw .connectionClosed(beforeAnyResponseByte: !answerStarted) }
        }
    }

    /// Reads what has arrived into `readBuffer`, waiting for it until the deadline; 0 at the
    /// end of the stream.
    private func receive(by deadline: Deadline, phase: String) throws(HTTPClientError) -> Int {
        while true {
            if deadline.hasPassed { throw .timedOut("\(phase) within \(deadline.seconds) s") }
            let count = readBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 { answerStarted = true; return count }
            if count == 0 { return 0 }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: try wait(for: POLLIN, by: deadline, phase: phase)
            default: throw .connectionClosed(beforeAnyResponseByte: !answerStarted)
            }
        }
    }

    /// Appends what arrives to the inbox; throws `connectionClosed` at the end of the stream.
    private func fillInbox(by deadline: Deadline, phase: String) throws(HTTPClientError) {
        if inboxStart == inbox.count {
            inbox.removeAll(keepingCapacity: true)
            inboxStart = 0
        } else if inboxStart > 32 << 10 {
            inbox.removeFirst(inboxStart)
            inboxStart = 0
        }
        let count = try receive(by: deadline, phase: phase)
        if count == 0 { throw .connectionClosed(beforeAnyResponseByte: !answerStarted) }
        inbox.append(contentsOf: readBuffer[0..<count])
    }

    /// The next line of the inbox without its CRLF (a bare LF is accepted too), reading more as
    /// needed; a line longer than `limit` bytes is refused.
    private func readLine(limit: Int, by deadline: Deadline, phase: String) throws(HTTPClientError) -> [UInt8] {
        var searched = 0 // bytes after inboxStart known to hold no LF
        while true {
            if let newline = inbox[(inboxStart + searched)...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > inboxStart && inbox[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                if end - inboxStart > limit { break }
                let line = Array(inbox[inboxStart..<end])
                inboxStart = newline + 1
                return line
            }
            searched = inbox.count - inboxStart
            if searched > limit + 1 { break } // + 1: the CR may have come without its LF yet
            try fillInbox(by: deadline, phase: phase)
        }
        throw .invalidResponse("line over \(limit) bytes")
    }

    private func readHead(by deadline: Deadline) throws(HTTPClientError) -> HTTPResponseHead {
        var budget = maxHeadBytes
        let statusLine = try readLine(limit: budget, by: deadline, phase: "no answer")
        budget -= statusLine.count
        var head: HTTPResponseHead
        do throws(HTTPResponseHeadError) {
            head = try HTTPResponseHead(statusLine: String(decoding: statusLine, as: UTF8.self))
        } catch { throw HTTPClientError(error) }
        while true {
            let line = try readLine(limit: budget, by: deadline, phase: "answer head incomplete")
            if line.isEmpty { return head }
            budget -= line.count + 2
            if budget < 0 { throw .invalidResponse("answer head over \(maxHeadBytes) bytes") }
            do throws(HTTPResponseHeadError) {
                try head.addField(line: String(decoding: line, as: UTF8.self))
            } catch { throw HTTPClientError(error) }
        }
    }

    // MARK: - body

    private enum Framing {
        case none, length(Int), chunked, untilClose
        /// Whether the body's end is known without the connection closing.
        var endsOnItsOwn: Bool {
            if case .untilClose = self { false } else { true }
        }
    }

    /// RFC 9112 §6.3: how the body of this answer to this request is delimited.
    private static func framing(of head: HTTPResponseHead, for request: HTTPClientRequest) throws(HTTPClientError)
        -> Framing
    {
        if request.expectsNoBody || head.status == 204 || head.status == 304 { return .none }
        if let codings = head.value(of: "Transfer-Encoding") {
            let last = codings.split(separator: ",").last?.trimmingCharacters(in: .whitespaces).lowercased()
            return last == "chunked" ? .chunked : .untilClose
        }
        if let text = head.value(of: "Content-Length") {
            // Repeated fields (or a list) must all agree.
            let values = Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            guard values.count == 1, let value = values.first, !value.isEmpty,
                value.allSatisfy({ ("0"..."9").contains($0) }),
                let length = Int(value)
            else {
                throw .invalidResponse("Content-Length \(text.prefix(40))")
            }
            return .length(length)
        }
        return .untilClose
    }

    private func readBody(_ framing: Framing, into sink: HTTPClientBodySink, by deadline: Deadline)
        throws(HTTPClientError)
    {
        switch framing {
        case .none:
            return
        case .length(let length):
            try sink.expect(length)
            try transfer(length, into: sink, by: deadline)
        case .chunked:
            try readChunks(into: sink, by: deadline)
        case .untilClose:
            try takeInbox(Int.max, into: sink)
            while true {
                let count = try receive(by: deadline, phase: "answer body incomplete")
                if count == 0 { return }
                try sink.append(readBuffer[0..<count])
            }
        }
    }

    /// Moves up to `limit` inbox bytes to the sink; returns how many.
    @discardableResult
    private func takeInbox(_ limit: Int, into sink: HTTPClientBodySink) throws(HTTPClientError) -> Int {
        let count = min(limit, inbox.count - inboxStart)
        guard count > 0 else { return 0 }
        try sink.append(inbox[inboxStart..<(inboxStart + count)])
        inboxStart += count
        return count
    }

    /// Moves exactly `length` body bytes to the sink: what the inbox holds, then straight from
    /// the socket (bytes past the end stay in the inbox).
    private func transfer(_ length: Int, into sink: HTTPClientBodySink, by deadline: Deadline) throws(HTTPClientError) {
        var remaining = length - (try takeInbox(length, into: sink))
        while remaining > 0 {
            let count = try receive(by: deadline, phase: "answer body incomplete")
            if count == 0 { throw .connectionClosed(beforeAnyResponseByte: false) }
            let used = min(count, remaining)
            try sink.append(readBuffer[0..<used])
            if used < count { inbox.append(contentsOf: readBuffer[used..<count]) }
            remaining -= used
        }
    }

    /// Chunked coding (RFC 9112 §7.1): size lines (extensions ignored), data, CRLF; then the
    /// trailer fields, which are read and dropped.
    private func readChunks(into sink: HTTPClientBodySink, by deadline: Deadline) throws(HTTPClientError) {
        let phase = "answer body incomplete"
        while true {
            let line = String(decoding: try readLine(limit: 1024, by: deadline, phase: phase), as: UTF8.self)
            let digits =
                line.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first?
                .trimmingCharacters(in: .whitespaces) ?? ""
            guard !digits.isEmpty, digits.count <= 15, let size = Int(digits, radix: 16), size >= 0,
                digits.allSatisfy(\.isHexDigit)
            else {
                throw .invalidResponse("chunk size \(line.prefix(40))")
            }
            if size == 0 { break }
            try sink.expect(sink.byteCount + size)
            try transfer(size, into: sink, by: deadline)
            guard try readLine(limit: 2, by: deadline, phase: phase).isEmpty else {
                throw .invalidResponse("chunk not followed by CRLF")
            }
        }
        var budget = maxHeadBytes
        while true {
            let trailer = try readLine(limit: budget, by: deadline, phase: phase)
            if trailer.isEmpty { return }
            budget -= trailer.count + 2
            if budget < 0 { throw .invalidResponse("trailer over \(maxHeadBytes) bytes") }
        }
    }
}
