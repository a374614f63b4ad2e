import HTTPCore

/// Decodes one answer to one request from bytes as they arrive, with no I/O of its own (the
/// connection feeds it; tests feed it byte by byte). Interim answers (1xx) are skipped; the
/// body is framed by Content-Length, chunked coding or the end of the connection
/// (RFC 9112 §6.3) and handed out as it is decoded.
///
/// States: `head` → (`body`) → `done`. Bytes past the answer stay in `inbox` (a well-behaved
/// server sends none; with some, the connection is not reused).
struct HTTPClientResponseDecoder {
    enum Framing: Equatable {
        case none, length(Int), chunked, untilClose
        /// Whether the body's end is known without the connection closing.
        var endsOnItsOwn: Bool { self != .untilClose }
    }

    private enum Chunk {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailers(budget: Int)
    }

    private enum State {
        case head
        case length(remaining: Int)
        case chunked(Chunk)
        case untilClose
        case done
    }

    enum Event {
        /// The final answer's head (after any interim ones), with how its body is framed.
        case head(HTTPResponseHead, Framing)
        /// The answer is complete.
        case end
    }

    private let expectsNoBody: Bool
    private let maxHeadBytes: Int
    private var state = State.head
    /// Bytes received and not yet decoded: `inbox[inboxStart...]`.
    private var inbox: [UInt8] = []
    private var inboxStart = 0
    /// Whether any byte of an answer has arrived (a connection that closes before then never
    /// answered: the request may be sent again).
    private(set) var answerStarted = false
    private(set) var framing: Framing?

    static let maxChunkLineBytes = 1024

    init(expectsNoBody: Bool, maxHeadBytes: Int) {
        self.expectsNoBody = expectsNoBody
        self.maxHeadBytes = maxHeadBytes
    }

    var isDone: Bool { if case .done = state { true } else { false } }
    var hasHead: Bool { framing != nil }
    /// Bytes received past the end of the answer.
    var leftoverByteCount: Int { inbox.count - inboxStart }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        answerStarted = true
        if inboxStart == inbox.count {
            inbox.removeAll(keepingCapacity: true)
            inboxStart = 0
        } else if inboxStart > 32 << 10 {
            inbox.removeFirst(inboxStart)
            inboxStart = 0
        }
        inbox.append(contentsOf: bytes)
    }

    /// The next event the buffered bytes complete, body bytes going to `body` on the way; nil
    /// when more bytes are needed.
    mutating func next(body: (ArraySlice<UInt8>) throws(HTTPClientError) -> Void) throws(HTTPClientError) -> Event? {
        while true {
            switch state {
            case .head:
                guard let head = try decodeHead() else { return nil }
                // Interim answers (100 Continue, 103 Early Hints) precede the real one.
                if (100..<200).contains(head.status) {
                    if head.status == 101 { throw .invalidResponse("unrequested protocol switch") }
                    continue
                }
                let framing = try Self.framing(of: head, expectsNoBody: expectsNoBody)
                self.framing = framing
                switch framing {
                case .none, .length(0): state = .done
                case .length(let length): state = .length(remaining: length)
                case .chunked: state = .chunked(.size)
                case .untilClose: state = .untilClose
                }
                return .head(head, framing)
            case .length(let remaining):
                let count = min(remaining, inbox.count - inboxStart)
                guard count > 0 else { return nil }
                try body(inbox[inboxStart..<(inboxStart + count)])
                inboxStart += count
                state = count == remaining ? .done : .length(remaining: remaining - count)
            case .chunked(let chunk):
                guard try decodeChunked(chunk, body: body) else { return nil }
            case .untilClose:
                let count = inbox.count - inboxStart
                guard count > 0 else { return nil }
                try body(inbox[inboxStart...])
                inboxStart = inbox.count
                return nil
            case .done:
                state = .done
                return .end
            }
            if case .done = state { return .end }
        }
    }

    /// The connection ended: completes an answer framed by the close, else says what was cut.
    mutating func endOfInput() throws(HTTPClientError) -> Event {
        switch state {
        case .untilClose:
            state = .done
            return .end
        case .done:
            return .end
        default:
            throw .connectionClosed(beforeAnyResponseByte: !answerStarted)
        }
    }

    // MARK: - head

    /// The head once its empty line has arrived.
    private mutating func decodeHead() throws(HTTPClientError) -> HTTPResponseHead? {
        let available = inbox[inboxStart...]
        guard let end = Self.endOfHead(in: available) else {
            if available.count > maxHeadBytes + 4 { throw .invalidResponse("answer head over \(maxHeadBytes) bytes") }
            return nil
        }
        let headBytes = inbox[inboxStart..<end.contentEnd]
        if headBytes.count > maxHeadBytes { throw .invalidResponse("answer head over \(maxHeadBytes) bytes") }
        inboxStart = end.next
        do throws(HTTPResponseHeadError) {
            return try HTTPResponseHead(parsing: headBytes)
        } catch {
            throw HTTPClientError(error)
        }
    }

    /// Where the head's lines end and what follows the empty line (CRLF or bare LF endings).
    private static func endOfHead(in bytes: ArraySlice<UInt8>) -> (contentEnd: Int, next: Int)? {
        var index = bytes.startIndex
        while let lf = bytes[index...].firstIndex(of: HTTPByte.lf) {
            // An empty line: LF right after the previous LF (or CRLF).
            let lineStart = index
            let isEmpty = lf == lineStart || (lf == lineStart + 1 && bytes[lineStart] == HTTPByte.cr)
            if isEmpty, lineStart > bytes.startIndex { return (lineStart, lf + 1) }
            index = lf + 1
        }
        return nil
    }

    // MARK: - body

    /// RFC 9112 §6.3: how the body of this answer to this request is delimited.
    static func framing(of head: HTTPResponseHead, expectsNoBody: Bool) throws(HTTPClientError) -> Framing {
        if expectsNoBody || head.status == 204 || head.status == 304 { return .none }
        if let codings = head.value(of: "Transfer-Encoding") {
            let last = codings.split(separator: ",").last.map { String($0).trimmingHTTPWhitespace().lowercased() }
            return last == "chunked" ? .chunked : .untilClose
        }
        if let text = head.value(of: "Content-Length") {
            // Repeated fields (or a list) must all agree.
            let values = Set(text.split(separator: ",").map { String($0).trimmingHTTPWhitespace() })
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

    /// One step of chunked coding; false when more bytes are needed.
    private mutating func decodeChunked(
        _ chunk: Chunk, body: (ArraySlice<UInt8>) throws(HTTPClientError) -> Void
    ) throws(HTTPClientError) -> Bool {
        switch chunk {
        case .size:
            guard let line = try takeLine(limit: Self.maxChunkLineBytes, what: "chunk size line") else { return false }
            let size: Int?
            do throws(ChunkedCoding.SizeLineError) {
                size = try line.withUnsafeBufferPointer { bytes throws(ChunkedCoding.SizeLineError) in
                    try ChunkedCoding.parseSizeLine(bytes)
                }
            } catch {
                throw .invalidResponse("chunk size \(String(decoding: line.prefix(40), as: UTF8.self))")
            }
            guard let size else { throw .invalidResponse("chunk size over the limit") }
            state = .chunked(size == 0 ? .trailers(budget: maxHeadBytes) : .data(remaining: size))
        case .data(let remaining):
            let count = min(remaining, inbox.count - inboxStart)
            guard count > 0 else { return false }
            try body(inbox[inboxStart..<(inboxStart + count)])
            inboxStart += count
            state = .chunked(count == remaining ? .dataEnd : .data(remaining: remaining - count))
        case .dataEnd:
            guard let line = try takeLine(limit: 2, what: "chunk end") else { return false }
            guard line.isEmpty else { throw .invalidResponse("chunk not followed by CRLF") }
            state = .chunked(.size)
        case .trailers(let budget):
            // Trailer fields are read and dropped.
            guard let line = try takeLine(limit: max(budget, 0), what: "trailer") else { return false }
            if line.isEmpty {
                state = .done
            } else {
                let left = budget - line.count - 2
                if left < 0 { throw .invalidResponse("trailer over \(maxHeadBytes) bytes") }
                state = .chunked(.trailers(budget: left))
            }
        }
        return true
    }

    /// The next line without its CRLF (or bare LF); nil until it is complete. A line longer
    /// than `limit` is refused.
    private mutating func takeLine(limit: Int, what: String) throws(HTTPClientError) -> [UInt8]? {
        let available = inbox[inboxStart...]
        guard let lf = available.firstIndex(of: HTTPByte.lf) else {
            // + 1: the CR may have come without its LF yet.
            if available.count > limit + 1 { throw .invalidResponse("\(what) over \(limit) bytes") }
            return nil
        }
        var end = lf
        if end > inboxStart, inbox[end - 1] == HTTPByte.cr { end -= 1 }
        if end - inboxStart > limit { throw .invalidResponse("\(what) over \(limit) bytes") }
        let line = Array(inbox[inboxStart..<end])
        inboxStart = lf + 1
        return line
    }
}
