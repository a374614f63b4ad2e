import HTTPCore
import Testing

@testable import HTTPServer

// Unit tests for `HTTPRequestDecoder`, fed directly (no sockets).
//
// Most tests go through `decodeAll`, which feeds a list of chunks and drains `next()` after each,
// and compare the outcome with what a single feed gives, so the same expectations hold however
// the bytes are split.

// MARK: - Comparable snapshots of decoder output

/// A header or trailer field as decoded.
struct DecodedField: Equatable, Sendable, CustomStringConvertible {
    var name: String
    var value: String

    init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    var description: String { "\(name): \(value.debugDescription)" }
}

extension [DecodedField] {
    init(_ headers: HTTPHeaders) { self = headers.map { DecodedField($0.name, $0.value) } }
}

struct DecodedHead: Equatable, Sendable {
    var method: String
    var target: String
    var version: HTTPVersion
    var headers: [DecodedField]

    init(_ method: String, _ target: String, _ version: HTTPVersion, _ headers: [DecodedField]) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }

    /// An HTTP/1.1 head.
    init(_ method: String, _ target: String, _ headers: [DecodedField]) {
        self.init(method, target, .http1_1, headers)
    }

    init(_ head: HTTPRequestHead) {
        self.init(head.method.rawValue, head.target, head.version, [DecodedField](head.headers))
    }
}

struct DecodedRequest: Equatable, Sendable {
    var head: DecodedHead
    var body: [UInt8]
    var trailers: [DecodedField]
}

enum DecodedEvent: Equatable, Sendable, CustomStringConvertible {
    case head(DecodedHead)
    case request(DecodedRequest)

    init(_ event: HTTPRequestDecoder.Event) {
        switch event {
        case .head(let head):
            self = .head(DecodedHead(head))
        case .request(let request):
            self = .request(
                DecodedRequest(
                    head: DecodedHead(request.head), body: request.body, trailers: [DecodedField](request.trailers)))
        }
    }

    var description: String {
        switch self {
        case .head(let head): "head(\(head.method) \(head.target) \(head.version) \(head.headers))"
        case .request(let request):
            "request(\(request.head.method) \(request.head.target), body \(request.body.count) bytes, trailers \(request.trailers))"
        }
    }
}

/// The events one request should produce: its head, then the request with body and trailers.
private func requestEvents(_ head: DecodedHead, body: [UInt8] = [], trailers: [DecodedField] = []) -> [DecodedEvent] {
    [.head(head), .request(DecodedRequest(head: head, body: body, trailers: trailers))]
}

private func requestEvents(_ head: DecodedHead, body: String, trailers: [DecodedField] = []) -> [DecodedEvent] {
    requestEvents(head, body: Array(body.utf8), trailers: trailers)
}

// MARK: - Feeding helpers

private func wire(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The bytes cut into pieces of `size` bytes (the last one may be shorter).
private func pieces(_ bytes: [UInt8], size: Int) -> [[UInt8]] {
    stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
}

private func oneByteAtATime(_ bytes: [UInt8]) -> [[UInt8]] { pieces(bytes, size: 1) }

/// What a decoder made of some input.
struct DecodeOutcome: Equatable, CustomStringConvertible {
    var events: [DecodedEvent] = []
    var error: HTTPParseError?
    /// `bufferedByteCount` once everything was fed (or the decoder failed).
    var buffered = 0
    /// `isIdle` at the end.
    var idle = false

    var description: String {
        "events: \(events), error: \(error.map(String.init(describing:)) ?? "none"), buffered: \(buffered), idle: \(idle)"
    }
}

/// Feeds `chunks` in order into one decoder, draining `next()` after each, until the end or an error.
private func decodeAll(_ chunks: [[UInt8]], limits: HTTPRequestLimits = HTTPRequestLimits()) -> DecodeOutcome {
    var decoder = HTTPRequestDecoder(limits: limits)
    var outcome = DecodeOutcome()
    feeding: for chunk in chunks {
        decoder.feed(chunk)
        do throws(HTTPParseError) {
            while let event = try decoder.next() {
                outcome.events.append(DecodedEvent(event))
            }
        } catch {
            outcome.error = error
            break feeding
        }
    }
    outcome.buffered = decoder.bufferedByteCount
    outcome.idle = decoder.isIdle
    return outcome
}

private func decodeAll(_ text: String, limits: HTTPRequestLimits = HTTPRequestLimits()) -> DecodeOutcome {
    decodeAll([wire(text)], limits: limits)
}

/// `next()` as a comparable snapshot.
private func nextEvent(_ decoder: inout HTTPRequestDecoder) throws(HTTPParseError) -> DecodedEvent? {
    try decoder.next().map(DecodedEvent.init)
}

/// Calls `next()` and returns the error it throws (recording an issue when it does not throw).
@discardableResult
private func expectNextThrows(
    _ kind: HTTPParseError.Kind, _ decoder: inout HTTPRequestDecoder,
    sourceLocation: SourceLocation = #_sourceLocation
) -> HTTPParseError? {
    do throws(HTTPParseError) {
        let event = try decoder.next()
        Issue.record(
            "expected \(kind), got \(event.map { "\(DecodedEvent($0))" } ?? "nil")", sourceLocation: sourceLocation)
        return nil
    } catch {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        return error
    }
}

/// Decodes `bytes` in one feed and one byte at a time: both must fail with `kind` after exactly
/// `eventsBefore` events, with the same events and the same error.
@discardableResult
private func expectFailure(
    _ bytes: [UInt8], _ kind: HTTPParseError.Kind, eventsBefore: Int = 0,
    limits: HTTPRequestLimits = HTTPRequestLimits(),
    sourceLocation: SourceLocation = #_sourceLocation
) -> HTTPParseError? {
    let whole = decodeAll([bytes], limits: limits)
    let input = String(decoding: bytes.prefix(300), as: UTF8.self).debugDescription
    #expect(whole.error?.kind == kind, "\(input) → \(whole)", sourceLocation: sourceLocation)
    #expect(whole.events.count == eventsBefore, "\(input) → \(whole)", sourceLocation: sourceLocation)
    #expect(whole.buffered == 0, "a failed decoder drops its buffer", sourceLocation: sourceLocation)
    let split = decodeAll(oneByteAtATime(bytes), limits: limits)
    #expect(split == whole, "\(input) fed one byte at a time", sourceLocation: sourceLocation)
    return whole.error
}

@discardableResult
private func expectFailure(
    _ text: String, _ kind: HTTPParseError.Kind, eventsBefore: Int = 0,
    limits: HTTPRequestLimits = HTTPRequestLimits(),
    sourceLocation: SourceLocation = #_sourceLocation
) -> HTTPParseError? {
    expectFailure(wire(text), kind, eventsBefore: eventsBefore, limits: limits, sourceLocation: sourceLocation)
}

/// Decodes `bytes` in one feed and one byte at a time: both must succeed with `expected`.
private func expectDecodes(
    _ bytes: [UInt8], _ expected: [DecodedEvent], limits: HTTPRequestLimits = HTTPRequestLimits(),
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let whole = decodeAll([bytes], limits: limits)
    #expect(
        whole == DecodeOutcome(events: expected, error: nil, buffered: 0, idle: true), sourceLocation: sourceLocation)
    let split = decodeAll(oneByteAtATime(bytes), limits: limits)
    #expect(split == whole, "fed one byte at a time", sourceLocation: sourceLocation)
}

private func expectDecodes(
    _ text: String, _ expected: [DecodedEvent], limits: HTTPRequestLimits = HTTPRequestLimits(),
    sourceLocation: SourceLocation = #_sourceLocation
) {
    expectDecodes(wire(text), expected, limits: limits, sourceLocation: sourceLocation)
}

/// Decodes `text` (one feed and byte by byte) and returns the heads, expecting success.
private func decodedHeads(
    _ text: String, limits: HTTPRequestLimits = HTTPRequestLimits(),
    sourceLocation: SourceLocation = #_sourceLocation
) -> [DecodedHead] {
    let whole = decodeAll(text, limits: limits)
    #expect(whole.error == nil, "\(text.debugDescription) → \(whole)", sourceLocation: sourceLocation)
    #expect(decodeAll(oneByteAtATime(wire(text)), limits: limits) == whole, sourceLocation: sourceLocation)
    return whole.events.compactMap { if case .head(let head) = $0 { head } else { nil } }
}

/// A GET request whose head (request line, fields, final CRLF) is exactly `size` bytes, padded
/// with an `X-Pad` field after `fields`.
private func paddedHead(size: Int, requestLine: String = "GET / HTTP/1.1", fields: [String] = ["Host: x"]) -> String {
    let prefix = requestLine + "\r\n" + fields.map { $0 + "\r\n" }.joined() + "X-Pad: "
    let suffix = "\r\n\r\n"
    let padding = size - prefix.utf8.count - suffix.utf8.count
    precondition(padding >= 1, "head too small for the padding field")
    let head = prefix + String(repeating: "p", count: padding) + suffix
    precondition(head.utf8.count == size)
    return head
}

/// An HTTP/1.0 request line and the empty line, `size` bytes in all.
private func bareHead(size: Int) -> String {
    let head = "GET /" + String(repeating: "a", count: size - 18) + " HTTP/1.0\r\n\r\n"
    precondition(head.utf8.count == size)
    return head
}

/// `count` bytes of a repeating, position-dependent pattern (so a misplaced byte is noticed).
private func patternBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
}

// MARK: - Representative requests

struct DecoderSample: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let expected: [DecodedEvent]
    var testDescription: String { name }
}

/// A request line that must decode, with what it must decode to.
struct AcceptedLine: Sendable, CustomTestStringConvertible {
    let line: String
    let method: String
    let target: String
    let version: HTTPVersion

    init(_ line: String, _ method: String, _ target: String, _ version: HTTPVersion) {
        self.line = line
        self.method = method
        self.target = target
        self.version = version
    }

    var testDescription: String { line.debugDescription }
}

private let decoderSamples: [DecoderSample] = {
    let getHead = DecodedHead(
        "GET", "/search?q=swift&page=2",
        [
            DecodedField("Host", "example.com"),
            DecodedField("User-Agent", "decoder-tests/1.0"),
            DecodedField("Accept", "*/*"),
            DecodedField("X-Empty", ""),
            DecodedField("x-spaces", "padded \t value"),
        ])
    let get = DecoderSample(
        name: "GET without a body",
        bytes: wire(
            "GET /search?q=swift&page=2 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: decoder-tests/1.0\r\n"
                + "Accept: */*\r\nX-Empty:\r\nx-spaces: \t padded \t value \t\r\n\r\n"),
        expected: requestEvents(getHead))

    let json = #"{"name":"widget","qty":42,"tags":["a","b"]}"#
    let postHead = DecodedHead(
        "POST", "/api/items",
        [
            DecodedField("Host", "example.com"),
            DecodedField("Content-Type", "application/json"),
            DecodedField("Content-Length", "\(json.utf8.count)"),
        ])
    let post = DecoderSample(
        name: "POST with Content-Length",
        bytes: wire(
            "POST /api/items HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(json.utf8.count)\r\n\r\n\(json)"),
        expected: requestEvents(postHead, body: json))

    let chunkedHead = DecodedHead(
        "POST", "/upload",
        [
            DecodedField("Host", "example.com"),
            DecodedField("Transfer-Encoding", "chunked"),
            DecodedField("Trailer", "X-Checksum, X-Count"),
        ])
    let chunked = DecoderSample(
        name: "chunked with extensions and trailers",
        bytes: wire(
            "POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n"
                + "Trailer: X-Checksum, X-Count\r\n\r\n"
                + "5;name=token\r\nhello\r\n"
                + #"1A;q="a \"quoted\" ;value";x=1"# + "\r\nabcdefghijklmnopqrstuvwxyz\r\n"
                + "0b ; flag ; k = v\r\n WORLD 1234\r\n"
                + "a\r\n0123456789\r\n"
                + #"0;end="""# + "\r\n"
                + "X-Checksum: 5d41402a\r\nx-count:\t4 \r\n\r\n"),
        expected: requestEvents(
            chunkedHead, body: "helloabcdefghijklmnopqrstuvwxyz WORLD 12340123456789",
            trailers: [DecodedField("X-Checksum", "5d41402a"), DecodedField("x-count", "4")]))

    let firstHead = DecodedHead("GET", "/first", [DecodedField("Host", "a")])
    let secondHead = DecodedHead("POST", "/second", [DecodedField("Host", "a"), DecodedField("Content-Length", "3")])
    let pair = DecoderSample(
        name: "pipelined pair",
        bytes: wire(
            "GET /first HTTP/1.1\r\nHost: a\r\n\r\nPOST /second HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"),
        expected: requestEvents(firstHead) + requestEvents(secondHead, body: "abc"))

    let thirdHead = DecodedHead(
        "PUT", "/third", [DecodedField("Host", "a"), DecodedField("Transfer-Encoding", "chunked")])
    let fourthHead = DecodedHead("GET", "/fourth", .http1_0, [])
    let fifthHead = DecodedHead("DELETE", "/fifth", [DecodedField("Host", "a"), DecodedField("Content-Length", "0")])
    let mix = DecoderSample(
        name: "pipelined chunked, HTTP/1.0, empty lines and an empty body",
        bytes: wire(
            "PUT /third HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
                + "\r\n\r\nGET /fourth HTTP/1.0\r\n\r\n"
                + "DELETE /fifth HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"),
        expected: requestEvents(thirdHead, body: "xyz") + requestEvents(fourthHead) + requestEvents(fifthHead))

    return [get, post, chunked, pair, mix]
}()

// MARK: - Tests

@Suite("HTTPRequestDecoder")
struct HTTPRequestDecoderTests {

    // MARK: Split input

    @Test("a single feed gives the expected events", arguments: decoderSamples)
    func singleFeed(_ sample: DecoderSample) {
        let outcome = decodeAll([sample.bytes])
        #expect(outcome == DecodeOutcome(events: sample.expected, error: nil, buffered: 0, idle: true))
    }

    @Test("every split into two feeds gives the same events", arguments: decoderSamples)
    func everyTwoWaySplit(_ sample: DecoderSample) {
        let bytes = sample.bytes
        for cut in 0...bytes.count {
            let outcome = decodeAll([Array(bytes[..<cut]), Array(bytes[cut...])])
            #expect(
                outcome == DecodeOutcome(events: sample.expected, error: nil, buffered: 0, idle: true),
                "split at \(cut)")
        }
    }

    @Test("one byte at a time gives the same events", arguments: decoderSamples)
    func oneByteFeeds(_ sample: DecoderSample) {
        let outcome = decodeAll(oneByteAtATime(sample.bytes))
        #expect(outcome == DecodeOutcome(events: sample.expected, error: nil, buffered: 0, idle: true))
    }

    @Test("every prefix yields a prefix of the events and no error", arguments: decoderSamples)
    func everyPrefix(_ sample: DecoderSample) {
        var previous = 0
        for cut in 0...sample.bytes.count {
            let outcome = decodeAll([Array(sample.bytes[..<cut])])
            #expect(outcome.error == nil, "prefix of \(cut) bytes: \(outcome)")
            #expect(Array(sample.expected.prefix(outcome.events.count)) == outcome.events, "prefix of \(cut) bytes")
            #expect(outcome.events.count >= previous, "prefix of \(cut) bytes")
            previous = outcome.events.count
        }
        #expect(previous == sample.expected.count)
    }

    @Test("splits after a large body, where feed compacts the buffer around a partial line", arguments: [false, true])
    func splitsAfterALargeBody(chunked: Bool) {
        // The first feed holds more than 4 KiB that gets consumed plus a partial chunk line,
        // trailer section or head; the second feed moves that tail down before appending.
        let data = patternBytes(5000)
        var bytes: [UInt8]
        let head: DecodedHead
        var body = data
        var trailers: [DecodedField] = []
        if chunked {
            bytes = wire("POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1388\r\n") + data
            head = DecodedHead(
                "POST", "/big", [DecodedField("Host", "x"), DecodedField("Transfer-Encoding", "chunked")])
            body += wire("hello")
            trailers = [DecodedField("X-T", "1"), DecodedField("X-U", "2")]
        } else {
            bytes = wire("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n") + data
            head = DecodedHead("POST", "/big", [DecodedField("Host", "x"), DecodedField("Content-Length", "5000")])
        }
        let dataEnd = bytes.count
        if chunked { bytes += wire("\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n") }
        bytes += wire("GET /next HTTP/1.1\r\nHost: x\r\nX-Long: " + String(repeating: "l", count: 100) + "\r\n\r\n")
        let nextHead = DecodedHead(
            "GET", "/next", [DecodedField("Host", "x"), DecodedField("X-Long", String(repeating: "l", count: 100))])
        let expected = requestEvents(head, body: body, trailers: trailers) + requestEvents(nextHead)
        #expect(decodeAll([bytes]).events == expected)
        for cut in (dataEnd - 3)...bytes.count {
            let outcome = decodeAll([Array(bytes[..<cut]), Array(bytes[cut...])])
            #expect(outcome == DecodeOutcome(events: expected, error: nil, buffered: 0, idle: true), "split at \(cut)")
        }
        // Three feeds: a compaction between two partial feeds of the same line.
        for cut in stride(from: dataEnd - 3, to: bytes.count - 20, by: 7) {
            let outcome = decodeAll([Array(bytes[..<cut]), Array(bytes[cut..<(cut + 10)]), Array(bytes[(cut + 10)...])])
            #expect(
                outcome == DecodeOutcome(events: expected, error: nil, buffered: 0, idle: true),
                "split at \(cut), \(cut + 10)")
        }
    }

    @Test func compactionWhileEventsAreLeftUnread() throws {
        // Pull one event per feed so that unread requests pile up and the buffer is compacted
        // with a consumed prefix and a long unread tail.
        var text = ""
        var expected: [DecodedEvent] = []
        for index in 0..<200 {
            let body = String(repeating: "\(index % 10)", count: index % 37)
            text += "\r\nPOST /r/\(index) HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            expected += requestEvents(
                DecodedHead(
                    "POST", "/r/\(index)",
                    [DecodedField("Host", "x"), DecodedField("Content-Length", "\(body.utf8.count)")]),
                body: body)
        }
        var decoder = HTTPRequestDecoder()
        var events: [DecodedEvent] = []
        for piece in pieces(wire(text), size: 333) {
            decoder.feed(piece)
            if let event = try nextEvent(&decoder) { events.append(event) }
        }
        while let event = try nextEvent(&decoder) { events.append(event) }
        #expect(events == expected)
        #expect(decoder.isIdle)
    }

    @Test func headIsYieldedBeforeTheBodyArrives() throws {
        var decoder = HTTPRequestDecoder()
        decoder.feed(wire("PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n"))
        let head = DecodedHead("PUT", "/x", [DecodedField("Host", "h"), DecodedField("Content-Length", "10")])
        #expect(try nextEvent(&decoder) == .head(head))
        #expect(decoder.isReadingBody)
        #expect(try nextEvent(&decoder) == nil)
        decoder.feed(wire("01234"))
        #expect(try nextEvent(&decoder) == nil)
        #expect(decoder.isReadingBody)
        decoder.feed(wire("56789"))
        #expect(try nextEvent(&decoder) == .request(DecodedRequest(head: head, body: wire("0123456789"), trailers: [])))
        #expect(!decoder.isReadingBody)
        #expect(decoder.isIdle)
        #expect(try nextEvent(&decoder) == nil)
    }

    @Test func feedingARawBufferIsTheSameAsAnArray() throws {
        let sample = decoderSamples[2]
        var decoder = HTTPRequestDecoder()
        var events: [DecodedEvent] = []
        for piece in pieces(sample.bytes, size: 7) {
            piece.withUnsafeBytes { decoder.feed($0) }
            while let event = try nextEvent(&decoder) { events.append(event) }
        }
        #expect(events == sample.expected)
    }

    // MARK: Pipelining

    @Test func pipelinedRequestsComeOutInOrderAndTheRestStaysBuffered() throws {
        let first = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        let second = "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
        let third = "GET /c HTTP/1.1\r\nHost: x\r\n"
        var decoder = HTTPRequestDecoder()
        decoder.feed(wire(first + second + third))

        let headA = DecodedHead("GET", "/a", [DecodedField("Host", "x")])
        #expect(try nextEvent(&decoder) == .head(headA))
        #expect(decoder.bufferedByteCount == second.utf8.count + third.utf8.count)
        #expect(try nextEvent(&decoder) == .request(DecodedRequest(head: headA, body: [], trailers: [])))
        #expect(decoder.bufferedByteCount == second.utf8.count + third.utf8.count)

        let headB = DecodedHead("POST", "/b", [DecodedField("Host", "x"), DecodedField("Content-Length", "2")])
        #expect(try nextEvent(&decoder) == .head(headB))
        #expect(decoder.bufferedByteCount == 2 + third.utf8.count)
        #expect(try nextEvent(&decoder) == .request(DecodedRequest(head: headB, body: wire("hi"), trailers: [])))

        // The third head is incomplete: its bytes stay buffered, unconsumed.
        #expect(try nextEvent(&decoder) == nil)
        #expect(decoder.bufferedByteCount == third.utf8.count)
        #expect(!decoder.isIdle)
        #expect(!decoder.isReadingBody)

        decoder.feed(wire("\r\n"))
        let headC = DecodedHead("GET", "/c", [DecodedField("Host", "x")])
        #expect(try nextEvent(&decoder) == .head(headC))
        #expect(try nextEvent(&decoder) == .request(DecodedRequest(head: headC, body: [], trailers: [])))
        #expect(try nextEvent(&decoder) == nil)
        #expect(decoder.isIdle)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func bodyBytesOfOneRequestAreNotTakenFromTheNext() throws {
        // The body ends exactly where the next request starts, whatever the next bytes look like.
        let text = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nGET POST /b HTTP/1.1\r\nHost: x\r\n\r\n"
        let outcome = decodeAll(text)
        #expect(outcome.error == nil)
        #expect(outcome.events.count == 4)
        if outcome.events.count == 4 {
            #expect(
                outcome.events[1]
                    == .request(
                        DecodedRequest(
                            head: DecodedHead(
                                "POST", "/a", [DecodedField("Host", "x"), DecodedField("Content-Length", "4")]),
                            body: wire("GET "), trailers: [])))
            #expect(outcome.events[2] == .head(DecodedHead("POST", "/b", [DecodedField("Host", "x")])))
        }
    }

    @Test func manyPipelinedRequestsInOneBuffer() {
        var text = ""
        var expected: [DecodedEvent] = []
        for index in 0..<50 {
            let body = String(repeating: "b", count: index)
            text += "POST /r/\(index) HTTP/1.1\r\nHost: x\r\nContent-Length: \(index)\r\n\r\n\(body)"
            let head = DecodedHead(
                "POST", "/r/\(index)", [DecodedField("Host", "x"), DecodedField("Content-Length", "\(index)")])
            expected += requestEvents(head, body: body)
        }
        expectDecodes(text, expected)
        #expect(decodeAll(pieces(wire(text), size: 13)) == decodeAll(text))
    }

    // MARK: Decoder state

    @Test func stateAccessorsFollowTheRequest() throws {
        var decoder = HTTPRequestDecoder()
        #expect(decoder.isIdle)
        #expect(!decoder.isReadingBody)
        #expect(decoder.bufferedByteCount == 0)

        // Skipped empty lines do not make the decoder busy.
        decoder.feed(wire("\r\n\r\n"))
        #expect(try nextEvent(&decoder) == nil)
        #expect(decoder.isIdle)
        #expect(decoder.bufferedByteCount == 0)

        decoder.feed(wire("POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"))
        #expect(!decoder.isIdle)
        #expect(try nextEvent(&decoder) == nil)
        #expect(!decoder.isIdle)
        #expect(!decoder.isReadingBody)
        decoder.feed(wire("\r\n4\r\nda"))
        guard case .head? = try nextEvent(&decoder) else {
            Issue.record("expected a head")
            return
        }
        #expect(decoder.isReadingBody)
        #expect(!decoder.isIdle)
        #expect(try nextEvent(&decoder) == nil)
        #expect(decoder.bufferedByteCount == 0, "chunk data is moved into the body as it arrives")
        decoder.feed(wire("ta\r\n0\r\n"))
        #expect(try nextEvent(&decoder) == nil)
        #expect(decoder.isReadingBody, "still waiting for the end of the trailer section")
        decoder.feed(wire("\r\n"))
        guard case .request(let request)? = try nextEvent(&decoder) else {
            Issue.record("expected a request")
            return
        }
        #expect(request.body == wire("data"))
        #expect(request.trailers.isEmpty)
        #expect(!decoder.isReadingBody)
        #expect(decoder.isIdle)
    }

    @Test func takeBufferedBytesReturnsWhatFollowsAnUpgradeRequest() throws {
        var decoder = HTTPRequestDecoder()
        let upgrade = "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        let raw: [UInt8] = [0x81, 0x85, 0x00, 0x0D, 0x0A, 0xFF, 0x20]
        decoder.feed(wire(upgrade) + raw)
        guard case .head(let head)? = try decoder.next() else {
            Issue.record("expected a head")
            return
        }
        #expect(head.headers["upgrade"] == "websocket")
        guard case .request? = try decoder.next() else {
            Issue.record("expected a request")
            return
        }
        #expect(decoder.bufferedByteCount == raw.count)
        #expect(decoder.takeBufferedBytes() == raw)
        #expect(decoder.bufferedByteCount == 0)
        #expect(decoder.isIdle)
        #expect(decoder.takeBufferedBytes() == [])
    }

    @Test func takeBufferedBytesForgetsAPartialHead() throws {
        var decoder = HTTPRequestDecoder()
        let partial = wire("GET /old HTTP/1.1\r\nHost: x\r\nX-Partial: yes")
        decoder.feed(partial)
        #expect(try nextEvent(&decoder) == nil)
        #expect(decoder.takeBufferedBytes() == partial)
        #expect(decoder.isIdle)
        // A fresh request decodes cleanly: nothing of the forgotten head (fields, scan position) leaks in.
        decoder.feed(wire("GET /new HTTP/1.1\r\nHost: y\r\n\r\n"))
        let head = DecodedHead("GET", "/new", [DecodedField("Host", "y")])
        #expect(try nextEvent(&decoder) == .head(head))
        #expect(try nextEvent(&decoder) == .request(DecodedRequest(head: head, body: [], trailers: [])))
    }

    // MARK: Chunked bodies

    @Test func chunkedBodyWithManyChunksAndMixedCaseHex() {
        let chunks = [1, 9, 10, 15, 16, 26, 255, 256, 4095, 4096]
        let data = patternBytes(chunks.reduce(0, +))
        var body: [UInt8] = wire("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        var offset = 0
        for (index, size) in chunks.enumerated() {
            let hex = String(size, radix: 16, uppercase: index.isMultiple(of: 2))
            body += wire(hex + "\r\n") + data[offset..<(offset + size)] + wire("\r\n")
            offset += size
        }
        body += wire("0\r\n\r\n")
        let head = DecodedHead("POST", "/c", [DecodedField("Host", "x"), DecodedField("Transfer-Encoding", "chunked")])
        expectDecodes(body, requestEvents(head, body: data))
    }

    @Test(
        "hex digits in either case and leading zeros",
        arguments: [
            ("a", 10), ("A", 10), ("fF", 255), ("Ff", 255), ("1aB", 0x1AB), ("00000000000000000000000000000003", 3),
        ])
    func chunkSizeDigits(_ size: String, _ value: Int) {
        let data = patternBytes(value)
        let bytes =
            wire("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\n") + data
            + wire("\r\n0\r\n\r\n")
        let head = DecodedHead("POST", "/", [DecodedField("Host", "x"), DecodedField("Transfer-Encoding", "chunked")])
        expectDecodes(bytes, requestEvents(head, body: data))
    }

    @Test(
        "chunk extensions are ignored",
        arguments: [
            "3;a",
            "3;a=b",
            "3;a=b;c=d;e",
            "3 ;a",
            "3\t; a = b",
            #"3;a="""#,
            #"3;a="quoted value""#,
            #"3;a="semi;colon, comma = equals""#,
            #"3;a="escaped \" quote and \\ backslash""#,
            "3;a=\"tab\there\"",
            "3;a=\"obs-text \u{e9}\"",
            "3;!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~",
        ])
    func chunkExtensions(_ sizeLine: String) {
        let bytes = wire(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\(sizeLine)\r\nabc\r\n\(sizeLine.replacingFirst("3", with: "0"))\r\n\r\n"
        )
        let head = DecodedHead("POST", "/", [DecodedField("Host", "x"), DecodedField("Transfer-Encoding", "chunked")])
        expectDecodes(bytes, requestEvents(head, body: "abc"))
    }

    @Test func trailersGoIntoTheRequestNotTheHead() {
        let text =
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "2\r\nok\r\n0\r\nX-Sum: 123\r\nX-Sum: 456\r\nServer-Timing: db;dur=53\r\n"
            + "Content-Length: 99\r\nHost: not-counted\r\n\r\n"
        let head = DecodedHead("POST", "/", [DecodedField("Host", "x"), DecodedField("Transfer-Encoding", "chunked")])
        // Framing fields in trailers are kept as plain fields: no second Host, no Content-Length conflict.
        expectDecodes(
            text,
            requestEvents(
                head, body: "ok",
                trailers: [
                    DecodedField("X-Sum", "123"), DecodedField("X-Sum", "456"),
                    DecodedField("Server-Timing", "db;dur=53"),
                    DecodedField("Content-Length", "99"), DecodedField("Host", "not-counted"),
                ]))
    }

    @Test func emptyChunkedBody() {
        let plain = DecodedHead("POST", "/", [DecodedField("Host", "x"), DecodedField("Transfer-Encoding", "Chunked")])
        expectDecodes("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n", requestEvents(plain))
    }

    @Test func transferEncodingListsSpreadOverFields() {
        // Empty list elements are ignored, and codings of several fields are one list.
        let head = DecodedHead(
            "POST", "/",
            [
                DecodedField("Host", "x"), DecodedField("Transfer-Encoding", ","),
                DecodedField("transfer-encoding", ", chunked ,"),
            ])
        expectDecodes(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,\r\ntransfer-encoding:  , chunked ,\r\n\r\n1\r\nz\r\n0\r\n\r\n",
            requestEvents(head, body: "z"))
    }

    // MARK: Request line

    @Test(
        "accepted request lines",
        arguments: [
            AcceptedLine("GET / HTTP/1.1", "GET", "/", .http1_1),
            AcceptedLine("GET /a/b%20c?x=1&y=%2F;p HTTP/1.1", "GET", "/a/b%20c?x=1&y=%2F;p", .http1_1),
            AcceptedLine("OPTIONS * HTTP/1.1", "OPTIONS", "*", .http1_1),
            AcceptedLine("CONNECT example.com:443 HTTP/1.1", "CONNECT", "example.com:443", .http1_1),
            AcceptedLine("CONNECT [::1]:8080 HTTP/1.1", "CONNECT", "[::1]:8080", .http1_1),
            AcceptedLine("GET http://example.com/x?y HTTP/1.1", "GET", "http://example.com/x?y", .http1_1),
            AcceptedLine("GET HTTPS://Example.COM HTTP/1.1", "GET", "HTTPS://Example.COM", .http1_1),
            AcceptedLine("PURGE /cache HTTP/1.1", "PURGE", "/cache", .http1_1),
            AcceptedLine("get / HTTP/1.1", "get", "/", .http1_1),
            AcceptedLine("M-SEARCH /x!$&'()*+,;=:@~ HTTP/1.1", "M-SEARCH", "/x!$&'()*+,;=:@~", .http1_1),
            AcceptedLine("GET / HTTP/1.0", "GET", "/", .http1_0),
            AcceptedLine("GET / HTTP/1.2", "GET", "/", .http1_1),
            AcceptedLine("GET / HTTP/1.9", "GET", "/", .http1_1),
        ])
    func acceptedRequestLine(_ accepted: AcceptedLine) {
        let heads = decodedHeads(accepted.line + "\r\nHost: example.com:443\r\n\r\n")
        #expect(
            heads == [
                DecodedHead(
                    accepted.method, accepted.target, accepted.version, [DecodedField("Host", "example.com:443")])
            ])
    }

    @Test(
        "malformed request lines are 400",
        arguments: [
            // spacing
            "GET  / HTTP/1.1",
            "GET /  HTTP/1.1",
            "GET / HTTP/1.1 ",
            " GET / HTTP/1.1",
            "GET\t/ HTTP/1.1",
            "GET /\tHTTP/1.1",
            // missing parts
            "GET",
            "GET ",
            "GET /",
            "GET / ",
            "GET  HTTP/1.1",
            "/ HTTP/1.1",
            // version syntax
            "GET / http/1.1",
            "GET / Http/1.1",
            "GET / HTTP/1",
            "GET / HTTP/11",
            "GET / HTTP/1.10",
            "GET / HTTP/1.1.1",
            "GET / HTTPS/1.1",
            "GET / HTTP/1.x",
            "GET / HTTP/a.1",
            "GET / HTTP-1.1",
            "GET / HTTP/1,1",
            // method characters
            "GE(T / HTTP/1.1",
            "GE:T / HTTP/1.1",
            "G\"ET / HTTP/1.1",
            "GET\u{7f} / HTTP/1.1",
            "GET\u{0} / HTTP/1.1",
            "G\u{c9}T / HTTP/1.1",
            // target characters
            "GET /a b HTTP/1.1",
            "GET /a\u{1}b HTTP/1.1",
            "GET /a\u{0}b HTTP/1.1",
            "GET /a\u{7f}b HTTP/1.1",
            "GET /caf\u{e9} HTTP/1.1",
            "GET /page#fragment HTTP/1.1",
            "GET # HTTP/1.1",
            // target forms
            "GET * HTTP/1.1",
            "POST * HTTP/1.1",
            "GET ** HTTP/1.1",
            "GET index.html HTTP/1.1",
            "GET ?q HTTP/1.1",
            "GET http:// HTTP/1.1",
            "GET http:///x HTTP/1.1",
            "GET http://?x HTTP/1.1",
            "GET ftp://example.com/x HTTP/1.1",
            "GET example.com:80 HTTP/1.1",
            "CONNECT / HTTP/1.1",
            "CONNECT /path HTTP/1.1",
            "CONNECT * HTTP/1.1",
            "CONNECT example.com HTTP/1.1",
            "CONNECT example.com: HTTP/1.1",
            "CONNECT :443 HTTP/1.1",
            "CONNECT example.com:44x3 HTTP/1.1",
            "CONNECT example.com:443/x HTTP/1.1",
            "CONNECT example.com:443?x HTTP/1.1",
            "CONNECT user@example.com:443 HTTP/1.1",
            "CONNECT http://example.com:443 HTTP/1.1",
        ])
    func malformedRequestLine(_ line: String) {
        expectFailure(line + "\r\nHost: x\r\n\r\n", .badRequest)
    }

    @Test("other major versions are 505", arguments: ["HTTP/2.0", "HTTP/3.0", "HTTP/0.9", "HTTP/9.1"])
    func unsupportedVersion(_ version: String) {
        expectFailure("GET / \(version)\r\nHost: x\r\n\r\n", .versionNotSupported)
        // Refused on the request line alone, before any header field arrives.
        expectFailure("GET / \(version)\r\n", .versionNotSupported)
    }

    @Test func methodGarbageIsRefusedBeforeTheLineEnds() throws {
        // A TLS ClientHello on a plain port: refused without waiting for a line feed.
        let hello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]
        for garbage in [hello, wire("GET("), wire("PO\u{7f}"), wire("{\"json\":")] {
            var decoder = HTTPRequestDecoder()
            decoder.feed(garbage)
            expectNextThrows(.badRequest, &decoder)
        }
        // The same after ignored empty lines.
        var afterEmptyLines = HTTPRequestDecoder()
        afterEmptyLines.feed(wire("\r\n\r\n") + hello)
        expectNextThrows(.badRequest, &afterEmptyLines)
        // Split feeds: the check resumes where it stopped.
        var split = HTTPRequestDecoder()
        split.feed(wire("\r"))
        #expect(try nextEvent(&split) == nil)
        split.feed(wire("\nDELE"))
        #expect(try nextEvent(&split) == nil)
        split.feed(wire("TE"))
        #expect(try nextEvent(&split) == nil)
        split.feed([0x01])
        expectNextThrows(.badRequest, &split)
    }

    @Test func validMethodPrefixWaitsForMore() throws {
        var decoder = HTTPRequestDecoder()
        decoder.feed(wire("OPTIO"))
        #expect(try nextEvent(&decoder) == nil)
        decoder.feed(wire("NS * HTTP/1.1\r\nHost: x\r\n"))
        #expect(try nextEvent(&decoder) == nil)
        decoder.feed(wire("\r\n"))
        #expect(try nextEvent(&decoder) == .head(DecodedHead("OPTIONS", "*", [DecodedField("Host", "x")])))
    }

    // MARK: Header fields

    @Test(
        "malformed header fields are 400",
        arguments: [
            "Name : value",
            "Name\t: value",
            "Na me: value",
            "X-A: 1\r\n continued",
            "X-A: 1\r\n\tcontinued",
            "NoColonHere",
            "NoColon value",
            ": empty name",
            ":",
            "X-A: a\u{0}b",
            "X-A: \u{0}",
            "X-\u{0}A: b",
            "X-A: a\rb",
            "X-A: a\r",
            "X-A: a\u{1}b",
            "X-A: a\u{1b}b",
            "X-A: a\u{7f}b",
            "X-A: a\u{b}b",
            "X(A): b",
            "X-\u{e9}: b",
            "X/A: b",
        ])
    func malformedField(_ field: String) {
        expectFailure("GET / HTTP/1.1\r\nHost: x\r\n\(field)\r\n\r\n", .badRequest)
    }

    @Test func obsFoldOnTheFirstFieldLine() {
        expectFailure("GET / HTTP/1.1\r\n Host: x\r\n\r\n", .badRequest)
        expectFailure("GET / HTTP/1.1\r\n\tHost: x\r\n\r\n", .badRequest)
    }

    @Test func fieldNamesValuesAndOrderAreKept() {
        let heads = decodedHeads(
            "GET / HTTP/1.1\r\nhOsT: x\r\nX-Dup: 1\r\nx-dup: 2\r\nX-Tab: a\tb\r\nX-OWS:\t \tv  \t\r\n"
                + "X-Colons: a:b::c\r\nX-Token!#$%&'*+-.^_`|~: ok\r\n\r\n")
        guard let head = heads.first else {
            Issue.record("no head")
            return
        }
        #expect(
            head.headers == [
                DecodedField("hOsT", "x"), DecodedField("X-Dup", "1"), DecodedField("x-dup", "2"),
                DecodedField("X-Tab", "a\tb"),
                DecodedField("X-OWS", "v"), DecodedField("X-Colons", "a:b::c"),
                DecodedField("X-Token!#$%&'*+-.^_`|~", "ok"),
            ])
    }

    @Test func nonUTF8ValuesDecodeAsLatin1() throws {
        var bytes = wire("GET / HTTP/1.1\r\nHost: x\r\nX-Latin: caf")
        bytes += [0xE9] // é in ISO-8859-1, not valid UTF-8 alone
        bytes += wire("\r\nX-High: ") + [0xFF, 0xFE, 0x80, 0xA0] + wire("\r\nX-Broken: ") + [0xC3, 0x28]
        bytes += wire("\r\nX-UTF8: caf\u{e9} \u{20ac} \u{1f600}\r\nX-Mixed: ") + [0x41, 0xE2, 0x82, 0x41]
        bytes += wire("\r\n\r\n")
        let outcome = decodeAll([bytes])
        #expect(decodeAll(oneByteAtATime(bytes)) == outcome)
        guard case .head(let head)? = outcome.events.first else {
            Issue.record("no head: \(outcome)")
            return
        }
        #expect(
            head.headers == [
                DecodedField("Host", "x"),
                DecodedField("X-Latin", "caf\u{e9}"),
                DecodedField("X-High", "\u{ff}\u{fe}\u{80}\u{a0}"),
                DecodedField("X-Broken", "\u{c3}("),
                DecodedField("X-UTF8", "caf\u{e9} \u{20ac} \u{1f600}"),
                DecodedField("X-Mixed", "A\u{e2}\u{82}A"),
            ])
        // Each Latin-1 byte becomes exactly one scalar of the same value.
        let latin = head.headers.first { $0.name == "X-High" }?.value ?? ""
        #expect(latin.unicodeScalars.map(\.value) == [0xFF, 0xFE, 0x80, 0xA0])
    }

    // MARK: Host

    @Test func hostRules() {
        expectFailure("GET / HTTP/1.1\r\n\r\n", .badRequest)
        expectFailure("GET / HTTP/1.2\r\nX: y\r\n\r\n", .badRequest)
        expectFailure("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", .badRequest)
        expectFailure("GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n", .badRequest)
        #expect(decodedHeads("GET / HTTP/1.0\r\n\r\n") == [DecodedHead("GET", "/", .http1_0, [])])
        #expect(
            decodedHeads("GET / HTTP/1.0\r\nHost: a\r\n\r\n") == [
                DecodedHead("GET", "/", .http1_0, [DecodedField("Host", "a")])
            ])
    }

    // MARK: Content-Length

    @Test(
        "malformed or conflicting Content-Length is 400",
        arguments: [
            "Content-Length: -1",
            "Content-Length: +5",
            "Content-Length: 5a",
            "Content-Length: abc",
            "Content-Length: 0x10",
            "Content-Length: 1.5",
            "Content-Length: 1e3",
            "Content-Length:",
            "Content-Length:  ",
            "Content-Length: 5,",
            "Content-Length: ,5",
            "Content-Length: 5,,5",
            "Content-Length: 5 5",
            "Content-Length: 5, 6",
            "Content-Length: 5, 5, 50",
            "Content-Length: 5\r\nContent-Length: 6",
            "Content-Length: 5\r\ncontent-length: 5, 4",
            "Content-Length: 99999999999999999999999, 5",
            "Content-Length: 3\r\nTransfer-Encoding: chunked",
            "Transfer-Encoding: chunked\r\nContent-Length: 3",
            "Transfer-Encoding: chunked\r\nContent-Length: 0",
        ])
    func badContentLength(_ fields: String) {
        expectFailure("POST / HTTP/1.1\r\nHost: x\r\n\(fields)\r\n\r\nabcde", .badRequest)
    }

    @Test(
        "identical Content-Length values are one",
        arguments: [
            "Content-Length: 5, 5",
            "Content-Length: 5,5",
            "Content-Length:5 ,\t5 , 5",
            "Content-Length: 005",
            "Content-Length: 5\r\nContent-Length: 5",
            "content-length: 5, 5\r\nCONTENT-LENGTH: 5",
        ])
    func repeatedContentLength(_ fields: String) {
        let outcome = decodeAll("POST / HTTP/1.1\r\nHost: x\r\n\(fields)\r\n\r\nabcdeGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(outcome.error == nil, "\(outcome)")
        #expect(outcome.events.count == 4)
        if case .request(let request)? = outcome.events.dropFirst().first {
            #expect(request.body == wire("abcde"))
        } else {
            Issue.record("expected a request: \(outcome)")
        }
    }

    @Test(
        "Content-Length too large for Int is 413",
        arguments: [
            "9223372036854775808", "99999999999999999999999999999999999999", "9223372036854775807",
        ])
    func hugeContentLength(_ value: String) {
        expectFailure("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \(value)\r\n\r\n", .contentTooLarge)
        expectFailure("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \(value), \(value)\r\n\r\n", .contentTooLarge)
    }

    // MARK: Transfer-Encoding

    @Test func transferEncodingRules() {
        let prefix = "POST / HTTP/1.1\r\nHost: x\r\n"
        let chunkedBody = "\r\n\r\n1\r\na\r\n0\r\n\r\n"
        // Control: the same request with plain chunked framing decodes.
        #expect(decodeAll(prefix + "Transfer-Encoding: chunked" + chunkedBody).events.count == 2)
        expectFailure("POST / HTTP/1.0\r\nTransfer-Encoding: chunked" + chunkedBody, .badRequest)
        expectFailure("POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: gzip, chunked" + chunkedBody, .badRequest)
        expectFailure(prefix + "Transfer-Encoding: gzip, chunked" + chunkedBody, .notImplemented)
        expectFailure(
            prefix + "Transfer-Encoding: deflate\r\nTransfer-Encoding: chunked" + chunkedBody, .notImplemented)
        expectFailure(prefix + "Transfer-Encoding: x-custom;p=\"v\", chunked" + chunkedBody, .notImplemented)
        expectFailure(prefix + "Transfer-Encoding: chunked, gzip" + chunkedBody, .badRequest)
        expectFailure(prefix + "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip" + chunkedBody, .badRequest)
        expectFailure(prefix + "Transfer-Encoding: gzip" + chunkedBody, .badRequest)
        expectFailure(prefix + "Transfer-Encoding: identity" + chunkedBody, .badRequest)
        expectFailure(prefix + "Transfer-Encoding: chunked, chunked" + chunkedBody, .badRequest)
        expectFailure(prefix + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked" + chunkedBody, .badRequest)
        expectFailure(prefix + "Transfer-Encoding:" + chunkedBody, .badRequest)
        expectFailure(prefix + "Transfer-Encoding: , ," + chunkedBody, .badRequest)
        expectFailure(prefix + "Transfer-Encoding: chun/ked" + chunkedBody, .badRequest)
        expectFailure(prefix + "Transfer-Encoding: chunkedx" + chunkedBody, .badRequest)
    }

    // MARK: Chunk syntax

    @Test(
        "malformed chunk-size lines are 400",
        arguments: [
            "zz",
            "g",
            "",
            " 5",
            "5 ",
            "5\t",
            "-5",
            "+5",
            "0x5",
            "5;",
            "5; ",
            "5;=x",
            "5;a=",
            "5;a= ",
            "5;a=b c",
            "5;a=\"unterminated",
            "5;a=\"bad\u{1}ctl\"",
            "5;a=\"bad escape\\",
            "5;a b",
            "5,a",
            "5;a=b;",
        ])
    func malformedChunkSize(_ line: String) {
        expectFailure(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\(line)\r\nhello\r\n0\r\n\r\n",
            .badRequest, eventsBefore: 1)
    }

    @Test(
        "bad data framing is 400",
        arguments: [
            "5\r\nhelloX\r\n0\r\n\r\n",
            "5\r\nhello0\r\n\r\n",
            "5\r\nhellohello\r\n0\r\n\r\n",
            "5\r\nhello\r\r\n0\r\n\r\n",
            "5\r\nhell\r\n0\r\n\r\n",
        ])
    func missingCRLFAfterChunkData(_ body: String) {
        expectFailure(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body, .badRequest, eventsBefore: 1)
    }

    @Test(
        "chunk sizes beyond 16 hex digits or Int are 413",
        arguments: [
            "10000000000000000",
            "00010000000000000000",
            "FFFFFFFFFFFFFFFF",
            "8000000000000000",
            "7FFFFFFFFFFFFFFF",
            "ffffffffffffffffffffffffffffffffffffffff;ext=1",
        ])
    func hugeChunkSize(_ size: String) {
        expectFailure(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\n",
            .contentTooLarge, eventsBefore: 1)
    }

    @Test func chunkSizeLineLengthLimit() {
        let prefix = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        let limit = HTTPRequestDecoder.maxChunkLineBytes
        // "1;" + name + CRLF is exactly the limit.
        let fits = "1;" + String(repeating: "n", count: limit - 4)
        let head = DecodedHead("POST", "/", [DecodedField("Host", "x"), DecodedField("Transfer-Encoding", "chunked")])
        expectDecodes(prefix + fits + "\r\nz\r\n0\r\n\r\n", requestEvents(head, body: "z"))
        expectFailure(prefix + fits + "n\r\nz\r\n0\r\n\r\n", .badRequest, eventsBefore: 1)
        // Refused as soon as more than the limit is buffered without a line end.
        expectFailure(prefix + "1;" + String(repeating: "n", count: limit), .badRequest, eventsBefore: 1)
    }

    @Test func templatesOfTheMalformedCasesAreValidWhenCorrected() {
        // Each malformed case above differs from one of these valid requests in one place only,
        // so the error it gets is for that place.
        let templates = [
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-A: ok\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ]
        for template in templates {
            let outcome = decodeAll(template)
            #expect(outcome.error == nil && outcome.events.count == 2, "\(template.debugDescription): \(outcome)")
        }
    }

    // MARK: Line endings

    @Test(
        "bare LF is 400 wherever it appears",
        arguments: [
            "\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\n\n",
            "GET / HTTP/1.1\nHost: x\n\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\nhello\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: y\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: y\r\n\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n",
        ])
    func bareLF(_ text: String) {
        let outcome = decodeAll(text)
        #expect(outcome.error?.kind == .badRequest, "\(outcome)")
        #expect(decodeAll(oneByteAtATime(wire(text))) == outcome)
        // Nothing after the bare LF is decoded.
        #expect(!outcome.events.contains { if case .request = $0 { true } else { false } })
        // Control: with CRLF instead, the request is valid.
        var corrected: [UInt8] = []
        for byte in wire(text) {
            if byte == UInt8(ascii: "\n"), corrected.last != UInt8(ascii: "\r") { corrected.append(UInt8(ascii: "\r")) }
            corrected.append(byte)
        }
        let control = decodeAll([corrected])
        #expect(control.error == nil && control.events.count == 2, "corrected: \(control)")
    }

    @Test(
        "bare CR is 400 wherever it appears",
        arguments: [
            "\rGET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\rHost: x\r\n\r\n",
            "GET /\r HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET\r/ HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost\r: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\n\r\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\n\rX-A: b\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r;a\r\nhello\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a\r\r\nhello\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: a\rb\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\r\n",
        ])
    func bareCR(_ text: String) {
        let outcome = decodeAll(text)
        #expect(outcome.error?.kind == .badRequest, "\(outcome)")
        // Refused for the CR itself, not for what it does to the rest of the line.
        #expect(outcome.error?.message.contains("bare CR") == true, "\(outcome)")
        #expect(decodeAll(oneByteAtATime(wire(text))) == outcome)
        #expect(!outcome.events.contains { if case .request = $0 { true } else { false } })
    }

    @Test func leadingEmptyLines() {
        let request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        let head = DecodedHead("GET", "/", [DecodedField("Host", "x")])
        for count in 0...HTTPRequestDecoder.maxLeadingEmptyLines {
            expectDecodes(String(repeating: "\r\n", count: count) + request, requestEvents(head))
        }
        expectFailure(
            String(repeating: "\r\n", count: HTTPRequestDecoder.maxLeadingEmptyLines + 1) + request, .badRequest)
        expectFailure(String(repeating: "\r\n", count: 100), .badRequest)
        // The count starts again for every request.
        let eight = String(repeating: "\r\n", count: 8)
        expectDecodes(eight + request + eight + request, requestEvents(head) + requestEvents(head))
        expectFailure(eight + request + eight + "\r\n" + request, .badRequest, eventsBefore: 2)
        #expect(HTTPRequestDecoder.maxLeadingEmptyLines == 8)
    }

    // MARK: Header size limit

    static let small = HTTPRequestLimits(maxHeaderBytes: 200, maxBodyBytes: 64, maxHeaderCount: 6)

    @Test func headOfExactlyMaxHeaderBytesIsAccepted() {
        let limits = Self.small
        let text = paddedHead(size: limits.maxHeaderBytes)
        let outcome = decodeAll(text, limits: limits)
        #expect(outcome.error == nil, "\(outcome)")
        #expect(outcome.events.count == 2)
        #expect(decodeAll(oneByteAtATime(wire(text)), limits: limits) == outcome)
        // Leading empty lines are not counted.
        let withEmptyLines = decodeAll(String(repeating: "\r\n", count: 8) + text, limits: limits)
        #expect(withEmptyLines == outcome)
        // Nor are the bytes of the following request in the same buffer.
        let pipelined = decodeAll(text + text, limits: limits)
        #expect(pipelined.error == nil, "\(pipelined)")
        #expect(pipelined.events.count == 4)
        // An HTTP/1.0 head without fields at the limit.
        let bare = bareHead(size: limits.maxHeaderBytes)
        let bareOutcome = decodeAll(bare, limits: limits)
        #expect(bareOutcome.error == nil, "\(bareOutcome)")
        #expect(bareOutcome.events.count == 2)
    }

    @Test func headOneByteOverMaxHeaderBytesIs431() {
        let limits = Self.small
        expectFailure(paddedHead(size: limits.maxHeaderBytes + 1), .headersTooLarge, limits: limits)
        expectFailure(bareHead(size: limits.maxHeaderBytes + 1), .headersTooLarge, limits: limits)
        // A long request line alone.
        expectFailure(
            "GET /" + String(repeating: "a", count: limits.maxHeaderBytes) + " HTTP/1.1\r\n", .headersTooLarge,
            limits: limits)
    }

    @Test func incompleteHeadOverTheLimitIs431BeforeItEnds() throws {
        let limits = Self.small
        // One long unfinished field line.
        let prefix = "GET / HTTP/1.1\r\nHost: x\r\nX-Long: "
        var decoder = HTTPRequestDecoder(limits: limits)
        decoder.feed(wire(prefix + String(repeating: "v", count: limits.maxHeaderBytes - prefix.utf8.count)))
        #expect(decoder.bufferedByteCount == limits.maxHeaderBytes)
        #expect(try nextEvent(&decoder) == nil, "exactly the limit buffered: not over it yet")
        decoder.feed(wire("v"))
        expectNextThrows(.headersTooLarge, &decoder)

        // Complete field lines filling the budget, with no empty line yet: the CR of the empty
        // line would already pass the limit.
        let lines = Array(wire(paddedHead(size: limits.maxHeaderBytes + 2)).dropLast(2))
        #expect(lines.count == limits.maxHeaderBytes)
        var full = HTTPRequestDecoder(limits: limits)
        full.feed(lines)
        #expect(try nextEvent(&full) == nil)
        full.feed(wire("\r"))
        expectNextThrows(.headersTooLarge, &full)

        // Many bytes at once with no line end at all.
        var flood = HTTPRequestDecoder(limits: limits)
        flood.feed(wire("GET /" + String(repeating: "a", count: 10_000)))
        expectNextThrows(.headersTooLarge, &flood)
    }

    @Test func defaultLimitEdges() {
        let limits = HTTPRequestLimits()
        #expect(decodeAll(paddedHead(size: limits.maxHeaderBytes)).error == nil)
        expectFailure(paddedHead(size: limits.maxHeaderBytes + 1), .headersTooLarge)
    }

    // MARK: Header count limit

    @Test func headerCountLimit() {
        let limits = Self.small
        let atLimit = ["Host: x"] + (1..<limits.maxHeaderCount).map { "X-\($0): v" }
        let ok = decodeAll("GET / HTTP/1.1\r\n" + atLimit.map { $0 + "\r\n" }.joined() + "\r\n", limits: limits)
        #expect(ok.error == nil, "\(ok)")
        if case .head(let head)? = ok.events.first {
            #expect(head.headers.count == limits.maxHeaderCount)
        } else {
            Issue.record("no head: \(ok)")
        }
        let over = atLimit + ["X-Extra: v"]
        expectFailure(
            "GET / HTTP/1.1\r\n" + over.map { $0 + "\r\n" }.joined() + "\r\n", .headersTooLarge, limits: limits)
        // Empty values and repeated names count the same.
        let repeated = Array(repeating: "X-Same:", count: limits.maxHeaderCount)
        expectFailure(
            "GET / HTTP/1.0\r\n" + repeated.map { $0 + "\r\n" }.joined() + "X-Same:\r\n\r\n", .headersTooLarge,
            limits: limits)
        #expect(
            decodeAll("GET / HTTP/1.0\r\n" + repeated.map { $0 + "\r\n" }.joined() + "\r\n", limits: limits).error
                == nil)
    }

    // MARK: Body size limit

    @Test func contentLengthBodyLimit() {
        let limits = Self.small
        let max = limits.maxBodyBytes
        let body = patternBytes(max)
        let head = DecodedHead("POST", "/", [DecodedField("Host", "x"), DecodedField("Content-Length", "\(max)")])
        expectDecodes(
            wire("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \(max)\r\n\r\n") + body,
            requestEvents(head, body: body), limits: limits)
        // One more is refused instead of yielding the head, before any body byte is sent.
        expectFailure(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \(max + 1)\r\n\r\n", .contentTooLarge, limits: limits)
        expectFailure(
            wire("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \(max + 1)\r\n\r\n") + patternBytes(max + 1),
            .contentTooLarge, limits: limits)
        expectFailure(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \(max + 1), \(max + 1)\r\n\r\n", .contentTooLarge,
            limits: limits)
    }

    @Test func chunkedBodyLimit() {
        let limits = Self.small
        let max = limits.maxBodyBytes
        let prefix = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        let head = DecodedHead("POST", "/", [DecodedField("Host", "x"), DecodedField("Transfer-Encoding", "chunked")])
        func chunked(_ sizes: [Int]) -> [UInt8] {
            var bytes = wire(prefix)
            for size in sizes { bytes += wire(String(size, radix: 16) + "\r\n") + patternBytes(size) + wire("\r\n") }
            return bytes + wire("0\r\n\r\n")
        }
        func body(_ sizes: [Int]) -> [UInt8] { sizes.flatMap(patternBytes) }
        expectDecodes(chunked([max]), requestEvents(head, body: body([max])), limits: limits)
        expectDecodes(chunked([40, max - 40]), requestEvents(head, body: body([40, max - 40])), limits: limits)
        expectDecodes(chunked([1, 1, max - 2]), requestEvents(head, body: body([1, 1, max - 2])), limits: limits)
        expectFailure(chunked([max + 1]), .contentTooLarge, eventsBefore: 1, limits: limits)
        expectFailure(chunked([40, max - 39]), .contentTooLarge, eventsBefore: 1, limits: limits)
        expectFailure(chunked([max, 1]), .contentTooLarge, eventsBefore: 1, limits: limits)
        // Refused as soon as the size line arrives, before the data.
        expectFailure(
            wire(prefix + String(max + 1, radix: 16) + "\r\n"), .contentTooLarge, eventsBefore: 1, limits: limits)
    }

    // MARK: Trailer limits

    @Test func trailersCountAgainstTheHeaderBudget() {
        let limits = Self.small
        let headSize = 150
        let head = paddedHead(
            size: headSize, requestLine: "POST / HTTP/1.1", fields: ["Host: x", "Transfer-Encoding: chunked"])
        let budget = limits.maxHeaderBytes - headSize
        func trailer(_ size: Int) -> String {
            let text = "X-T: " + String(repeating: "t", count: size - 7) + "\r\n"
            precondition(text.utf8.count == size)
            return text
        }
        // Trailer field lines filling the budget exactly: accepted.
        for split in [[budget], [10, budget - 10], [budget - 20, 10, 10]] {
            let text = head + "3\r\nabc\r\n0\r\n" + split.map(trailer).joined() + "\r\n"
            let outcome = decodeAll(text, limits: limits)
            #expect(outcome.error == nil, "trailers \(split): \(outcome)")
            if case .request(let request)? = outcome.events.last {
                #expect(request.trailers.count == split.count)
                #expect(request.body == wire("abc"))
            } else {
                Issue.record("no request for trailers \(split): \(outcome)")
            }
            #expect(decodeAll(oneByteAtATime(wire(text)), limits: limits) == outcome)
        }
        // One byte more: 431.
        for split in [[budget + 1], [10, budget - 9], [budget - 20, 10, 11]] {
            expectFailure(
                head + "3\r\nabc\r\n0\r\n" + split.map(trailer).joined() + "\r\n",
                .headersTooLarge, eventsBefore: 1, limits: limits)
        }
        // An unfinished trailer line well over the budget is refused before it ends.
        expectFailure(
            head + "0\r\nX-T: " + String(repeating: "t", count: budget + 10), .headersTooLarge, eventsBefore: 1,
            limits: limits)
    }

    @Test func headAtTheLimitMayStillUseAChunkedBodyWithoutTrailers() {
        let limits = Self.small
        let text =
            paddedHead(
                size: limits.maxHeaderBytes, requestLine: "POST / HTTP/1.1",
                fields: ["Host: x", "Transfer-Encoding: chunked"])
            + "3\r\nabc\r\n0\r\n\r\n"
        let outcome = decodeAll(text, limits: limits)
        #expect(outcome.error == nil, "\(outcome)")
        #expect(outcome.events.count == 2)
        #expect(decodeAll(oneByteAtATime(wire(text)), limits: limits) == outcome)
        // But not with a trailer.
        expectFailure(
            paddedHead(
                size: limits.maxHeaderBytes, requestLine: "POST / HTTP/1.1",
                fields: ["Host: x", "Transfer-Encoding: chunked"])
                + "3\r\nabc\r\n0\r\nX: y\r\n\r\n", .headersTooLarge, eventsBefore: 1, limits: limits)
    }

    @Test func trailersCountAgainstTheHeaderCount() {
        let limits = Self.small
        let fields = ["Host: x", "Transfer-Encoding: chunked"] + (2..<(limits.maxHeaderCount - 1)).map { "X-\($0): v" }
        let head = "POST / HTTP/1.1\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n1\r\nz\r\n0\r\n"
        let ok = decodeAll(head + "X-T1: a\r\n\r\n", limits: limits)
        #expect(ok.error == nil, "\(ok)")
        #expect(ok.events.count == 2)
        expectFailure(head + "X-T1: a\r\nX-T2: b\r\n\r\n", .headersTooLarge, eventsBefore: 1, limits: limits)
    }

    // MARK: Large inputs

    @Test func largeHeaderFedOneByteAtATime() throws {
        let value = String(repeating: "abcdefghijklmnop", count: 13 * 1024 / 16)
        let manyFields = (0..<40).map { "X-Field-\($0): " + String(repeating: "v", count: 40) + "\r\n" }.joined()
        let text = "GET /big HTTP/1.1\r\nHost: x\r\n" + manyFields + "X-Big: \(value)\r\n\r\n"
        #expect(text.utf8.count > 15 * 1024 && text.utf8.count < HTTPRequestLimits().maxHeaderBytes)
        var decoder = HTTPRequestDecoder()
        var events: [HTTPRequestDecoder.Event] = []
        for byte in wire(text) {
            decoder.feed([byte])
            while let event = try decoder.next() { events.append(event) }
        }
        #expect(events.count == 2)
        guard case .head(let head)? = events.first else {
            Issue.record("no head")
            return
        }
        #expect(head.headers.count == 42)
        #expect(head.headers["X-Big"] == value)
        #expect(head.headers["x-field-39"] == String(repeating: "v", count: 40))
        #expect(decoder.isIdle)
    }

    @Test func largeContentLengthBodyInSmallPieces() throws {
        let body = patternBytes(4 * 1024 * 1024)
        var decoder = HTTPRequestDecoder()
        decoder.feed(wire("PUT /blob HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n"))
        var events: [HTTPRequestDecoder.Event] = []
        var offset = 0
        var size = 1
        while offset < body.count {
            // Pieces of varying sizes, 1 to ~1.5 KiB.
            let end = min(offset + size, body.count)
            decoder.feed(Array(body[offset..<end]))
            while let event = try decoder.next() { events.append(event) }
            offset = end
            size = size % 1499 + 97
        }
        #expect(events.count == 2)
        guard case .request(let request)? = events.last else {
            Issue.record("no request")
            return
        }
        #expect(request.body.count == body.count)
        #expect(request.body == body)
        #expect(decoder.isIdle)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func largeChunkedBodyInSmallPieces() throws {
        let body = patternBytes(4 * 1024 * 1024)
        var bytes = wire("POST /blob HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        var offset = 0
        var chunk = 1
        while offset < body.count {
            let end = min(offset + chunk, body.count)
            bytes += wire(String(end - offset, radix: 16) + ";n=1\r\n") + body[offset..<end] + wire("\r\n")
            offset = end
            chunk = chunk * 3 % 10007 + 1
        }
        bytes += wire("0\r\nX-Done: yes\r\n\r\n")
        var decoder = HTTPRequestDecoder()
        var events: [HTTPRequestDecoder.Event] = []
        for piece in pieces(bytes, size: 1000) {
            decoder.feed(piece)
            while let event = try decoder.next() { events.append(event) }
        }
        #expect(events.count == 2)
        guard case .request(let request)? = events.last else {
            Issue.record("no request")
            return
        }
        #expect(request.body.count == body.count)
        #expect(request.body == body)
        #expect(request.trailers["X-Done"] == "yes")
        #expect(decoder.isIdle)
    }

    // MARK: Errors are final

    @Test(
        "after an error next() keeps throwing the same error",
        arguments: [
            ("GET / HTTP/1.1\nHost: x\r\n\r\n", HTTPParseError.Kind.badRequest),
            ("GET / HTTP/2.0\r\n", .versionNotSupported),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: br, chunked\r\n\r\n", .notImplemented),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", .contentTooLarge),
            ("GET / HTTP/1.1\r\nX: " + String(repeating: "x", count: 17 * 1024), .headersTooLarge),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX", .badRequest),
        ])
    func errorsAreSticky(_ text: String, _ kind: HTTPParseError.Kind) throws {
        var decoder = HTTPRequestDecoder()
        decoder.feed(wire(text))
        var first: HTTPParseError?
        do throws(HTTPParseError) {
            while try decoder.next() != nil {}
        } catch {
            first = error
        }
        guard let first else {
            Issue.record("no error")
            return
        }
        #expect(first.kind == kind)
        #expect(decoder.bufferedByteCount == 0)
        #expect(!decoder.isIdle)
        #expect(!decoder.isReadingBody)
        for _ in 0..<3 {
            #expect(throws: first) { try decoder.next() }
        }
        // New bytes, even a valid request, change nothing.
        decoder.feed(wire("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(decoder.bufferedByteCount == 0)
        #expect(throws: first) { try decoder.next() }
        #expect(!decoder.isIdle)
    }

    @Test func errorMapsToItsStatus() {
        #expect(HTTPParseError(.badRequest, "x").status.code == 400)
        #expect(HTTPParseError(.headersTooLarge, "x").status.code == 431)
        #expect(HTTPParseError(.contentTooLarge, "x").status.code == 413)
        #expect(HTTPParseError(.notImplemented, "x").status.code == 501)
        #expect(HTTPParseError(.versionNotSupported, "x").status.code == 505)
    }
}

extension String {
    /// The string with its first occurrence of `target` replaced.
    fileprivate func replacingFirst(_ target: Character, with replacement: String) -> String {
        guard let index = firstIndex(of: target) else { return self }
        return String(self[..<index]) + replacement + String(self[self.index(after: index)...])
    }
}
