import HTTPCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An incremental HTTP/1.1 request decoder (RFC 9112, with the field rules of RFC 9110).
///
/// Bytes go in with `feed`, events come out of `next()`: for every request a `.head` as soon as
/// its header section is complete, then a `.request` with the whole body (and trailers).
///
/// ## Buffer
/// Received bytes are appended to one byte array; `readIndex` marks the first unconsumed byte.
/// Bytes are *consumed* when they belong to something already decoded: the header section once
/// `.head` is yielded, leading empty lines as they are skipped, body bytes as they are moved into
/// the body being accumulated, chunk framing as it is parsed. The bytes of an incomplete header
/// section (or trailer section, or chunk-size line) stay buffered until it is complete; the scan
/// remembers where it stopped, so every byte is looked at once however the input is split.
/// `feed` compacts the array before appending (cheaply when everything was consumed; by moving
/// the tail down once the consumed prefix is at least as large as the tail), so a long keep-alive
/// connection keeps a buffer about the size of one read plus one head.
///
/// ## States
/// `head` (request line and header fields, after up to 8 ignored empty lines) →
/// `bodyless` (`.head` yielded, `.request` next) or `fixedBody(remaining:)` (Content-Length) or
/// `chunkSize` → `chunkData(remaining:)` → `chunkDataEnd` (the CRLF after the data) → `chunkSize` …
/// → `trailers` (after the last chunk) → back to `head` once `.request` is yielded.
/// Any error moves the decoder to a dead state that rethrows it and drops its buffer.
///
/// ## Size limits
/// - `maxHeaderBytes` counts the request line, every header field line and the empty line that
///   ends the header section, each *including* its CRLF. Leading empty lines before the request
///   line are not counted (at most 8 of them are accepted). A head of exactly `maxHeaderBytes`
///   bytes is accepted; as soon as more than `maxHeaderBytes` bytes of a head are buffered without
///   its end, 431 is thrown.
/// - Trailer field lines (each including its CRLF) count against the same budget as the header
///   section of their request: head bytes + trailer field line bytes ≤ `maxHeaderBytes`. The
///   last-chunk line (`0\r\n`) and the empty line that ends the trailer section are not counted, so
///   a request whose head is exactly at the limit may still use a chunked body without trailers.
/// - `maxHeaderCount` bounds header fields plus trailer fields of one request.
/// - `maxBodyBytes` bounds the decoded body: a larger Content-Length is refused when the header
///   section completes (before `.head`), a chunked body as soon as a chunk size would pass it.
/// - A chunk-size line (size, extensions and CRLF) is limited to 4096 bytes.
public struct HTTPRequestDecoder: Sendable {
    public enum Event: Sendable {
        case head(HTTPRequestHead)
        case request(HTTPRequest)
    }

    public let limits: HTTPRequestLimits

    /// Empty lines accepted before a request line (RFC 9112 §2.2).
    static let maxLeadingEmptyLines = 8
    /// Longest accepted chunk-size line, extensions and CRLF included.
    static let maxChunkLineBytes = 4096

    private enum State {
        case head
        case bodyless
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
    }

    private var state: State = .head
    private var failure: HTTPParseError?

    private var storage: [UInt8] = []
    private var readIndex = 0

    // Line scanning, as offsets from `readIndex` (the start of the unconsumed head, trailer
    // section or chunk-size line), so they survive compaction.
    /// Where the current line starts.
    private var lineStart = 0
    /// How far the search for the current line's LF has gone.
    private var scanOffset = 0
    /// Everything decoded of the request in progress. A new request starts from a fresh value,
    /// so nothing of the previous request can survive into the next.
    private struct Message {
        /// How far the method at the start of a partial request line has been checked.
        var methodChecked = 0
        var methodComplete = false
        var emptyLines = 0
        var requestLine: RequestLine?
        var headers = HTTPHeaders()
        var fieldCount = 0
        var hostCount = 0
        var contentLength: ContentLength?
        var transferCoding = TransferCodings()
        var headBytes = 0
        var head: HTTPRequestHead?
        var body: [UInt8] = []
        var trailers = HTTPHeaders()
    }

    private var message = Message()

    public init(limits: HTTPRequestLimits = HTTPRequestLimits()) {
        self.limits = limits
    }

    // MARK: input

    /// Appends received bytes.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil, !bytes.isEmpty else { return }
        compact()
        storage.append(contentsOf: bytes)
    }

    /// Appends received bytes.
    public mutating func feed(_ bytes: [UInt8]) {
        guard failure == nil, !bytes.isEmpty else { return }
        compact()
        storage.append(contentsOf: bytes)
    }

    /// True when no byte of a next request has been received (skipped empty lines do not count).
    public var isIdle: Bool {
        guard failure == nil, case .head = state else { return false }
        return readIndex == storage.count
    }

    /// True while a request's header section has been decoded but its body is not complete.
    public var isReadingBody: Bool {
        guard failure == nil else { return false }
        switch state {
        case .head, .bodyless: return false
        case .fixedBody, .chunkSize, .chunkData, .chunkDataEnd, .trailers: return true
        }
    }

    /// Bytes buffered and not yet consumed (0 once the decoder has failed).
    public var bufferedByteCount: Int { storage.count - readIndex }

    /// Drops everything buffered and returns it (used when a connection switches protocol).
    /// A partially scanned head, trailer section or chunk-size line is forgotten with its bytes.
    public mutating func takeBufferedBytes() -> [UInt8] {
        let rest = Array(storage[readIndex...])
        storage = []
        readIndex = 0
        resetScan()
        if case .head = state { message = Message() }
        return rest
    }

    private mutating func compact() {
        guard readIndex > 0 else { return }
        if readIndex == storage.count {
            // Keep a modest buffer for the next read; give back what a burst made it grow to.
            storage.removeAll(keepingCapacity: storage.capacity <= 256 * 1024)
            readIndex = 0
        } else if readIndex >= 4096, readIndex >= storage.count - readIndex {
            // Moves at most as many bytes as were consumed since the last move: amortized O(1).
            storage.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }

    private mutating func consume(_ count: Int) {
        readIndex += count
        resetScan()
    }

    private mutating func resetScan() {
        lineStart = 0
        scanOffset = 0
    }

    // MARK: events

    /// The next event, or nil when more bytes are needed. After a throw every later call throws
    /// the same error.
    public mutating func next() throws(HTTPParseError) -> Event? {
        if let failure { throw failure }
        do throws(HTTPParseError) {
            return try step()
        } catch {
            failure = error
            storage = []
            readIndex = 0
            throw error
        }
    }

    private mutating func step() throws(HTTPParseError) -> Event? {
        while true {
            switch state {
            case .head:
                return try decodeHead()
            case .bodyless:
                return finishRequest()
            case .fixedBody(let remaining):
                let available = storage.count - readIndex
                let count = min(remaining, available)
                if count > 0 {
                    message.body.append(contentsOf: storage[readIndex..<(readIndex + count)])
                    readIndex += count
                }
                if count == remaining { return finishRequest() }
                state = .fixedBody(remaining: remaining - count)
                return nil
            case .chunkSize:
                guard let size = try decodeChunkSize() else { return nil }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let available = storage.count - readIndex
                let count = min(remaining, available)
                if count > 0 {
                    message.body.append(contentsOf: storage[readIndex..<(readIndex + count)])
                    readIndex += count
                }
                if count < remaining {
                    state = .chunkData(remaining: remaining - count)
                    return nil
                }
                state = .chunkDataEnd
            case .chunkDataEnd:
                let available = storage.count - readIndex
                if available == 0 { return nil }
                guard storage[readIndex] == .cr else {
                    throw HTTPParseError(.badRequest, "missing CRLF after chunk data")
                }
                if available == 1 { return nil }
                guard storage[readIndex + 1] == .lf else {
                    throw HTTPParseError(.badRequest, "missing CRLF after chunk data")
                }
                readIndex += 2
                state = .chunkSize
            case .trailers:
                guard try decodeTrailers() else { return nil }
                return finishRequest()
            }
        }
    }

    private mutating func finishRequest() -> Event {
        // Moved out rather than copied then reset: the next request starts from a fresh value.
        var finished = Message()
        swap(&finished, &message)
        state = .head
        return .request(HTTPRequest(head: finished.head!, body: finished.body, trailers: finished.trailers))
    }

    // MARK: lines

    private enum LineScan {
        /// A complete line: its content ends at `contentEnd` (before the CR); the next line
        /// starts at `next`. Offsets from `readIndex`.
        case line(start: Int, contentEnd: Int, next: Int)
        /// No LF yet; `available` bytes from `readIndex`, within the budget.
        case incomplete(available: Int)
        /// No LF within `budget` bytes and more than `budget` bytes buffered.
        case overBudget
    }

    /// Finds the end of the line starting at `lineStart`, looking only at bytes not searched
    /// before and only within `budget` bytes of `readIndex`.
    private mutating func scanLine(budget: Int) -> LineScan {
        let available = storage.count - readIndex
        let window = min(available, budget)
        if scanOffset < window {
            let base = readIndex
            let from = scanOffset
            let lf: Int? = storage.withUnsafeBufferPointer { buffer in
                let start = buffer.baseAddress! + base
                guard let hit = memchr(start + from, Int32(UInt8.lf), window - from) else { return nil }
                return UnsafeRawPointer(hit) - UnsafeRawPointer(start)
            }
            if let lf {
                let start = lineStart
                let hasCR = lf > start && storage[readIndex + lf - 1] == .cr
                lineStart = lf + 1
                scanOffset = lf + 1
                return .line(start: start, contentEnd: hasCR ? lf - 1 : -1, next: lf + 1)
            }
            scanOffset = window
        }
        return available > budget ? .overBudget : .incomplete(available: available)
    }

    /// Runs `body` over the bytes `[from, to)` (offsets from `readIndex`).
    private func withBytes<R>(
        _ from: Int, _ to: Int,
        _ body: (UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> R
    ) throws(HTTPParseError) -> R {
        let base = readIndex
        return try storage.withUnsafeBufferPointer { (buffer) throws(HTTPParseError) -> R in
            try body(UnsafeBufferPointer(rebasing: buffer[(base + from)..<(base + to)]))
        }
    }

    // MARK: head

    private mutating func decodeHead() throws(HTTPParseError) -> Event? {
        while true {
            let budget = limits.maxHeaderBytes
            let scan = scanLine(budget: budget)
            if message.requestLine == nil, !message.methodComplete {
                // Check the method as it arrives, so that garbage (a TLS hello on a plain port)
                // is refused at once rather than after a header timeout.
                let end: Int
                switch scan {
                case .line(let start, let contentEnd, let next):
                    end = contentEnd >= 0 ? contentEnd + 1 : next - 1
                    _ = start
                case .incomplete(let available): end = available
                case .overBudget: end = budget
                }
                try checkMethodPrefix(upTo: end)
            }
            switch scan {
            case .incomplete:
                return nil
            case .overBudget:
                throw HTTPParseError(.headersTooLarge, "request header section exceeds \(budget) bytes")
            case .line(let start, let contentEnd, let next):
                guard contentEnd >= 0 else { throw HTTPParseError(.badRequest, "bare LF in header section") }
                if message.requestLine == nil {
                    if contentEnd == start {
                        message.emptyLines += 1
                        if message.emptyLines > Self.maxLeadingEmptyLines {
                            throw HTTPParseError(.badRequest, "too many empty lines before the request line")
                        }
                        consume(next)
                        message.methodChecked = 0
                        message.methodComplete = false // the CR of the empty line ended the check
                        continue
                    }
                    message.requestLine = try withBytes(start, contentEnd) { line throws(HTTPParseError) in
                        try Self.parseRequestLine(line)
                    }
                    continue
                }
                if contentEnd == start {
                    message.headBytes = next
                    let head = try completeHead()
                    consume(next)
                    return .head(head)
                }
                try addField(start, contentEnd, toTrailers: false)
            }
        }
    }

    /// Validates the method bytes of a partial request line received since the last check.
    private mutating func checkMethodPrefix(upTo end: Int) throws(HTTPParseError) {
        guard message.methodChecked < end else { return }
        let from = message.methodChecked
        let result: Int? = try withBytes(from, end) { bytes throws(HTTPParseError) -> Int? in
            for (offset, byte) in bytes.enumerated() {
                if byte == .space || byte == .cr { return offset }
                if !isTokenByte(byte) { throw HTTPParseError(.badRequest, "invalid character in method") }
            }
            return nil
        }
        if let result {
            message.methodComplete = true
            message.methodChecked = from + result
        } else {
            message.methodChecked = end
        }
    }

    private mutating func addField(_ start: Int, _ contentEnd: Int, toTrailers: Bool) throws(HTTPParseError) {
        message.fieldCount += 1
        if message.fieldCount > limits.maxHeaderCount {
            throw HTTPParseError(.headersTooLarge, "more than \(limits.maxHeaderCount) header fields")
        }
        let field = try withBytes(start, contentEnd) { line throws(HTTPParseError) in
            try Self.parseField(line, inspect: !toTrailers)
        }
        if toTrailers {
            message.trailers.add(field.name, field.value)
            return
        }
        message.headers.add(field.name, field.value)
        switch field.framing {
        case .none:
            break
        case .host:
            message.hostCount += 1
        case .contentLength(let value):
            if let contentLength = message.contentLength, contentLength != value {
                throw HTTPParseError(.badRequest, "conflicting Content-Length values")
            }
            message.contentLength = value
        case .transferEncoding(let codings):
            message.transferCoding.append(codings)
        }
    }

    /// Checks the framing of a complete header section and picks the body state.
    private mutating func completeHead() throws(HTTPParseError) -> HTTPRequestHead {
        let line = message.requestLine!
        let version = line.version
        if version == .http1_1, message.hostCount == 0 {
            throw HTTPParseError(.badRequest, "missing Host header")
        }
        if message.hostCount > 1 {
            throw HTTPParseError(.badRequest, "multiple Host headers")
        }
        if message.transferCoding.isPresent {
            if version == .http1_0 {
                throw HTTPParseError(.badRequest, "Transfer-Encoding in an HTTP/1.0 request")
            }
            if message.contentLength != nil {
                throw HTTPParseError(.badRequest, "both Content-Length and Transfer-Encoding")
            }
            if message.transferCoding.count == 0 {
                throw HTTPParseError(.badRequest, "empty Transfer-Encoding")
            }
            if message.transferCoding.chunkedCount > 1 {
                throw HTTPParseError(.badRequest, "chunked transfer coding applied more than once")
            }
            if !message.transferCoding.endsWithChunked {
                throw HTTPParseError(.badRequest, "final transfer coding is not chunked")
            }
            if let other = message.transferCoding.unsupported {
                throw HTTPParseError(.notImplemented, "transfer coding \(other) is not implemented")
            }
            state = .chunkSize
        } else if let contentLength = message.contentLength {
            switch contentLength {
            case .tooLarge:
                throw HTTPParseError(
                    .contentTooLarge, "Content-Length exceeds the limit of \(limits.maxBodyBytes) bytes")
            case .value(let length) where length > limits.maxBodyBytes:
                throw HTTPParseError(
                    .contentTooLarge, "Content-Length \(length) exceeds the limit of \(limits.maxBodyBytes) bytes")
            case .value(let length):
                if length == 0 {
                    state = .bodyless
                } else {
                    message.body.reserveCapacity(min(length, 1 << 20))
                    state = .fixedBody(remaining: length)
                }
            }
        } else {
            state = .bodyless
        }
        let head = HTTPRequestHead(method: line.method, target: line.target, version: version, headers: message.headers)
        message.head = head
        message.headers = HTTPHeaders()
        return head
    }

    // MARK: chunked body

    private mutating func decodeChunkSize() throws(HTTPParseError) -> Int? {
        switch scanLine(budget: Self.maxChunkLineBytes) {
        case .incomplete:
            return nil
        case .overBudget:
            throw HTTPParseError(.badRequest, "chunk-size line longer than \(Self.maxChunkLineBytes) bytes")
        case .line(let start, let contentEnd, let next):
            guard contentEnd >= 0 else { throw HTTPParseError(.badRequest, "bare LF in chunk-size line") }
            let size = try withBytes(start, contentEnd) { line throws(HTTPParseError) in
                try Self.parseChunkSizeLine(line)
            }
            guard let size, size <= limits.maxBodyBytes - message.body.count else {
                throw HTTPParseError(.contentTooLarge, "chunked body exceeds the limit of \(limits.maxBodyBytes) bytes")
            }
            consume(next)
            return size
        }
    }

    /// Reads trailer field lines; true once the trailer section is complete.
    private mutating func decodeTrailers() throws(HTTPParseError) -> Bool {
        while true {
            let budget = limits.maxHeaderBytes - message.headBytes
            // The empty line that ends the section is not counted: let the scan reach its LF.
            switch scanLine(budget: max(budget, lineStart + 2)) {
            case .incomplete:
                return false
            case .overBudget:
                throw HTTPParseError(
                    .headersTooLarge, "header and trailer sections exceed \(limits.maxHeaderBytes) bytes")
            case .line(let start, let contentEnd, let next):
                guard contentEnd >= 0 else { throw HTTPParseError(.badRequest, "bare LF in trailer section") }
                if contentEnd == start {
                    consume(next)
                    return true
                }
                // Count the line itself, not yet the empty line that will end the section.
                let lineBytes = next - start
                if lineBytes > budget - start {
                    throw HTTPParseError(
                        .headersTooLarge, "header and trailer sections exceed \(limits.maxHeaderBytes) bytes")
                }
                try addField(start, contentEnd, toTrailers: true)
            }
        }
    }
}

// MARK: - Parsing complete lines

extension HTTPRequestDecoder {
    enum ContentLength: Equatable {
        case value(Int)
        /// Overflows Int: certainly over any body limit.
        case tooLarge
    }

    /// What the Transfer-Encoding fields of a request list, across all of them.
    struct TransferCodings {
        var isPresent = false
        var count = 0
        var chunkedCount = 0
        var endsWithChunked = false
        /// The first coding other than chunked, lowercased.
        var unsupported: String?

        mutating func append(_ other: TransferCodings) {
            isPresent = true
            count += other.count
            chunkedCount += other.chunkedCount
            if other.count > 0 { endsWithChunked = other.endsWithChunked }
            if unsupported == nil { unsupported = other.unsupported }
        }
    }

    enum Framing {
        case none
        case host
        case contentLength(ContentLength)
        case transferEncoding(TransferCodings)
    }

    /// A struct, not a tuple: a tuple inside the per-request state is destroyed through the
    /// runtime's generic tuple witness, measurably slower on every request.
    struct RequestLine {
        var method: HTTPMethod
        var target: String
        var version: HTTPVersion
    }

    /// `method SP request-target SP HTTP-version` (RFC 9112 §3), without the CRLF.
    static func parseRequestLine(_ line: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> RequestLine {
        let count = line.count
        var index = 0
        while index < count, line[index] != .space {
            let byte = line[index]
            if byte == .cr { throw HTTPParseError(.badRequest, "bare CR in header section") }
            if !isTokenByte(byte) { throw HTTPParseError(.badRequest, "invalid character in method") }
            index += 1
        }
        if memchr(line.baseAddress!, Int32(UInt8.cr), count) != nil {
            throw HTTPParseError(.badRequest, "bare CR in header section")
        }
        if index == 0 { throw HTTPParseError(.badRequest, "empty method") }
        if index == count { throw HTTPParseError(.badRequest, "missing request target") }
        let methodEnd = index
        index += 1
        let targetStart = index
        if index < count, line[index] == .space { throw HTTPParseError(.badRequest, "extra space in request line") }
        while index < count, line[index] != .space {
            let byte = line[index]
            if byte >= 0x80 {
                throw HTTPParseError(.badRequest, "non-ASCII byte in request target (must be percent-encoded)")
            }
            if byte < 0x21 || byte == 0x7F || byte == UInt8(ascii: "#") {
                throw HTTPParseError(.badRequest, "invalid character in request target")
            }
            index += 1
        }
        if index == targetStart { throw HTTPParseError(.badRequest, "missing request target") }
        if index == count { throw HTTPParseError(.badRequest, "missing HTTP version") }
        let targetEnd = index
        index += 1
        let version = UnsafeBufferPointer(rebasing: line[index...])
        if version.contains(.space) { throw HTTPParseError(.badRequest, "extra space in request line") }
        guard version.count == 8,
            version[0] == UInt8(ascii: "H"), version[1] == UInt8(ascii: "T"),
            version[2] == UInt8(ascii: "T"), version[3] == UInt8(ascii: "P"),
            version[4] == UInt8(ascii: "/"), version[6] == UInt8(ascii: "."),
            isDigit(version[5]), isDigit(version[7])
        else { throw HTTPParseError(.badRequest, "malformed HTTP version") }
        guard version[5] == UInt8(ascii: "1") else {
            throw HTTPParseError(.versionNotSupported, "HTTP version not supported")
        }
        let httpVersion: HTTPVersion = version[7] == UInt8(ascii: "0") ? .http1_0 : .http1_1

        let methodBytes = UnsafeBufferPointer(rebasing: line[0..<methodEnd])
        let targetBytes = UnsafeBufferPointer(rebasing: line[targetStart..<targetEnd])
        try checkTargetForm(targetBytes, method: methodBytes)
        let method = HTTPMethod(String(decoding: methodBytes, as: UTF8.self))
        let target = String(decoding: targetBytes, as: UTF8.self)
        return RequestLine(method: method, target: target, version: httpVersion)
    }

    /// Which of the four forms of RFC 9112 §3.2 the target has, and whether the method allows it.
    /// The characters were already checked (visible ASCII, no `#`).
    static func checkTargetForm(_ target: UnsafeBufferPointer<UInt8>, method: UnsafeBufferPointer<UInt8>)
        throws(HTTPParseError)
    {
        let isConnect = equalsASCII(method, "CONNECT")
        if target[0] == UInt8(ascii: "/") {
            if isConnect { throw HTTPParseError(.badRequest, "CONNECT requires an authority-form target") }
            return
        }
        if target.count == 1, target[0] == UInt8(ascii: "*") {
            if !equalsASCII(method, "OPTIONS") {
                throw HTTPParseError(.badRequest, "asterisk-form target is only allowed with OPTIONS")
            }
            return
        }
        if isConnect {
            // authority-form: uri-host ":" port
            guard let colon = target.lastIndex(of: UInt8(ascii: ":")), colon > 0, colon < target.count - 1,
                target[(colon + 1)...].allSatisfy(isDigit),
                !target.contains(where: {
                    $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "@")
                })
            else { throw HTTPParseError(.badRequest, "CONNECT requires an authority-form target") }
            return
        }
        // absolute-form: an http or https URI with a non-empty authority.
        for scheme: StaticString in ["http://", "https://"] where hasPrefixIgnoringCase(target, scheme) {
            let authorityStart = scheme.utf8CodeUnitCount
            guard authorityStart < target.count,
                target[authorityStart] != UInt8(ascii: "/"), target[authorityStart] != UInt8(ascii: "?")
            else { throw HTTPParseError(.badRequest, "absolute-form target without a host") }
            return
        }
        throw HTTPParseError(.badRequest, "malformed request target")
    }

    /// `field-name ":" OWS field-value OWS` (RFC 9112 §5), without the CRLF: HTTPCore's
    /// `HTTPFieldLine`, plus the framing fields a request's body depends on.
    static func parseField(
        _ line: UnsafeBufferPointer<UInt8>, inspect: Bool
    ) throws(HTTPParseError) -> (name: String, value: String, framing: Framing) {
        let field: HTTPFieldLine
        do throws(HTTPFieldLineError) {
            field = try HTTPFieldLine(parsing: line)
        } catch {
            throw HTTPParseError(.badRequest, error.description)
        }
        var framing = Framing.none
        if inspect {
            let nameBytes = UnsafeBufferPointer(rebasing: line[field.name])
            if equalsIgnoringCase(nameBytes, "host") {
                framing = .host
            } else if equalsIgnoringCase(nameBytes, "content-length") {
                framing = .contentLength(try parseContentLength(UnsafeBufferPointer(rebasing: line[field.value])))
            } else if equalsIgnoringCase(nameBytes, "transfer-encoding") {
                framing = .transferEncoding(try parseTransferEncoding(UnsafeBufferPointer(rebasing: line[field.value])))
            }
        }
        return (field.name(in: line), field.value(in: line), framing)
    }

    /// `Content-Length = 1*DIGIT`, also accepting a list of identical values (`5, 5`).
    static func parseContentLength(_ value: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> ContentLength {
        var result: ContentLength?
        var index = 0
        let count = value.count
        repeat {
            while index < count, value[index] == .space || value[index] == .tab { index += 1 }
            var number = 0
            var overflow = false
            let digitsStart = index
            while index < count, isDigit(value[index]) {
                let (times10, o1) = number.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(value[index] &- UInt8(ascii: "0")))
                overflow = overflow || o1 || o2
                number = sum
                index += 1
            }
            if index == digitsStart { throw HTTPParseError(.badRequest, "invalid Content-Length") }
            while index < count, value[index] == .space || value[index] == .tab { index += 1 }
            if index < count {
                guard value[index] == UInt8(ascii: ",") else {
                    throw HTTPParseError(.badRequest, "invalid Content-Length")
                }
                index += 1
                if index == count { throw HTTPParseError(.badRequest, "invalid Content-Length") }
            }
            let element: ContentLength = overflow ? .tooLarge : .value(number)
            if let result, result != element { throw HTTPParseError(.badRequest, "conflicting Content-Length values") }
            result = element
        } while index < count
        return result!
    }

    /// A Transfer-Encoding value: a comma-separated list of codings with optional parameters.
    static func parseTransferEncoding(_ value: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> TransferCodings {
        var codings = TransferCodings()
        codings.isPresent = true
        var index = 0
        let count = value.count
        while index < count {
            while index < count, value[index] == .space || value[index] == .tab { index += 1 }
            if index < count, value[index] == UInt8(ascii: ",") { index += 1; continue } // empty list element
            if index == count { break }
            let nameStart = index
            while index < count, isTokenByte(value[index]) { index += 1 }
            if index == nameStart { throw HTTPParseError(.badRequest, "malformed Transfer-Encoding") }
            let name = UnsafeBufferPointer(rebasing: value[nameStart..<index])
            // Parameters (`; name=value`) are not used by any coding this decoder accepts; skip them.
            while index < count, value[index] != UInt8(ascii: ",") {
                let byte = value[index]
                if byte != .space, byte != .tab, byte != UInt8(ascii: ";"), byte != UInt8(ascii: "="),
                    byte != UInt8(ascii: "\""),
                    !isTokenByte(byte), byte < 0x80
                {
                    throw HTTPParseError(.badRequest, "malformed Transfer-Encoding")
                }
                if index == nameStart + name.count, byte != .space, byte != .tab, byte != UInt8(ascii: ";") {
                    throw HTTPParseError(.badRequest, "malformed Transfer-Encoding")
                }
                index += 1
            }
            codings.count += 1
            if equalsIgnoringCase(name, "chunked") {
                codings.chunkedCount += 1
                codings.endsWithChunked = true
            } else {
                codings.endsWithChunked = false
                if codings.unsupported == nil {
                    codings.unsupported = String(decoding: name.prefix(40), as: UTF8.self).lowercased()
                }
            }
        }
        return codings
    }

    static func parseChunkSizeLine(_ line: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> Int? {
        do throws(ChunkedCoding.SizeLineError) {
            return try ChunkedCoding.parseSizeLine(line)
        } catch .bareCR {
            throw HTTPParseError(.badRequest, "bare CR in chunk-size line")
        } catch {
            throw HTTPParseError(.badRequest, "malformed chunk size")
        }
    }
}

// MARK: - Bytes

extension UInt8 {
    fileprivate static let cr = UInt8(ascii: "\r")
    fileprivate static let lf = UInt8(ascii: "\n")
    fileprivate static let space = UInt8(ascii: " ")
    fileprivate static let tab = UInt8(ascii: "\t")
}

/// RFC 9110 `tchar` (HTTPCore's one table).
@inline(__always)
func isTokenByte(_ byte: UInt8) -> Bool { HTTPByte.isToken(byte) }

@inline(__always)
private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

private func equalsASCII(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
    guard bytes.count == text.utf8CodeUnitCount else { return false }
    let expected = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    return bytes.elementsEqual(expected)
}

/// Compares with a lowercase ASCII `text`, ignoring the case of `bytes`.
private func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
    bytes.count == text.utf8CodeUnitCount && hasPrefixIgnoringCase(bytes, text)
}

private func hasPrefixIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
    let count = text.utf8CodeUnitCount
    guard bytes.count >= count else { return false }
    let expected = text.utf8Start
    for index in 0..<count {
        var byte = bytes[index]
        if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte |= 0x20 }
        if byte != expected[index] { return false }
    }
    return true
}
