import Testing

@testable import HTTPServer

/// The server's view of one HTTP/2 stream without nghttp2 or sockets: the request arriving,
/// refusals, dispatch, the response body, and the timeouts through an injected clock.
@Suite("HTTP/2 stream state machine")
struct HTTP2StreamStateMachineTests {
    typealias Machine = HTTP2StreamStateMachine

    static let limits = HTTPRequestLimits(maxHeaderBytes: 200, maxBodyBytes: 2 << 20, maxHeaderCount: 4)

    /// A stream whose header block completed at `now` without END_STREAM.
    static func receivingBody(now: UInt64 = 10) -> Machine {
        var machine = Machine(limits: limits, now: 0)
        let field = machine.fieldReceived(size: 10)
        #expect(field == .header)
        machine.headersReceived(declaredLength: nil, endStream: false, now: now)
        let advanced = machine.advance()
        #expect(advanced == .none)
        return machine
    }

    /// A complete GET, accepted for dispatch.
    static func accepted() -> Machine {
        var machine = Machine(limits: limits, now: 0)
        machine.headersReceived(declaredLength: nil, endStream: true, now: 1)
        let advanced = machine.advance()
        #expect(advanced == .dispatch)
        return machine
    }

    static func streaming(declaredLength: Int? = nil) -> Machine {
        var machine = accepted()
        let answered = machine.answer(.stream(declaredLength: declaredLength))
        #expect(answered)
        return machine
    }

    // MARK: the request arriving

    @Test func aStreamBeginsWithItsHeaderBlock() {
        let machine = Machine(limits: Self.limits, now: 3)
        #expect(machine.request == .headers(lastProgress: 3))
        #expect(machine.response == .none)
        #expect(machine.awaitsHeaderBlock)
        #expect(!machine.isAnswered)
    }

    @Test func fieldsAreHeadersUntilTheBlockCompletesThenTrailers() {
        var machine = Machine(limits: Self.limits, now: 0)
        let field = machine.fieldReceived(size: 10)
        #expect(field == .header)
        machine.headersReceived(declaredLength: nil, endStream: false, now: 5)
        #expect(machine.request == .body(lastProgress: 5))
        #expect(!machine.awaitsHeaderBlock)
        let field2 = machine.fieldReceived(size: 10)
        #expect(field2 == .trailer)
        machine.headersReceived(declaredLength: nil, endStream: true, now: 6)
        #expect(machine.isRequestComplete)
    }

    @Test func aHeaderListOverTheByteLimitIsRefusedWith431() {
        var machine = Machine(limits: Self.limits, now: 0)
        // 32 bytes of overhead per field, as RFC 9113 §6.5.2 counts.
        let field = machine.fieldReceived(size: 100)
        #expect(field == .header)
        #expect(machine.headerListSize == 132)
        let field2 = machine.fieldReceived(size: 40)
        #expect(field2 == .ignore)
        guard case .refusing(let error) = machine.response else {
            Issue.record("not refusing: \(machine.response)")
            return
        }
        #expect(error.kind == .headersTooLarge)
        // Nothing more is kept, however small.
        let field3 = machine.fieldReceived(size: 0)
        #expect(field3 == .ignore)
        machine.headersReceived(declaredLength: nil, endStream: true, now: 1)
        let advanced = machine.advance()
        #expect(advanced == .refuse(error))
        #expect(machine.discardLimit == 2 << 20)
    }

    @Test func tooManyFieldsAreRefusedWith431() {
        var machine = Machine(limits: Self.limits, now: 0)
        for _ in 0..<4 { #expect(machine.fieldReceived(size: 1) == .header) }
        let field = machine.fieldReceived(size: 1)
        #expect(field == .ignore)
        #expect(machine.headerCount == 5)
        guard case .refusing(let error) = machine.response else {
            Issue.record("not refusing: \(machine.response)")
            return
        }
        #expect(error.kind == .headersTooLarge)
    }

    @Test func aDeclaredLengthOverTheLimitIsRefusedWith413() {
        var machine = Machine(limits: Self.limits, now: 0)
        machine.headersReceived(declaredLength: (2 << 20) + 1, endStream: false, now: 1)
        guard case .refuse(let error) = machine.advance() else {
            Issue.record("not refused: \(machine.response)")
            return
        }
        #expect(error.kind == .contentTooLarge)
    }

    @Test func aDeclaredLengthAtTheLimitIsAccepted() {
        var machine = Machine(limits: Self.limits, now: 0)
        machine.headersReceived(declaredLength: 2 << 20, endStream: false, now: 1)
        #expect(machine.response == .none)
        let advanced = machine.advance()
        #expect(advanced == .none)
    }

    @Test func bodyBytesAreKeptUpToTheLimit() {
        var machine = Self.receivingBody()
        let data = machine.dataReceived(length: 2 << 20, bodyCount: 0)
        #expect(data == .append)
        let data2 = machine.dataReceived(length: 1, bodyCount: 2 << 20)
        #expect(data2 == .rejectBody)
        #expect(machine.discarded == 1)
        guard case .refuse(let error) = machine.advance() else {
            Issue.record("not refused: \(machine.response)")
            return
        }
        #expect(error.kind == .contentTooLarge)
    }

    @Test func aRefusedUploadIsDiscardedUpToItsLimitThenStopped() {
        var machine = Self.receivingBody()
        let data = machine.dataReceived(length: 3 << 20, bodyCount: 0)
        #expect(data == .rejectBody)
        _ = machine.advance()
        let answered = machine.answer(.bytes)
        #expect(answered)
        // The discard limit is max(maxBodyBytes, 1 MiB) = 2 MiB; 3 MiB were discarded already.
        let data2 = machine.dataReceived(length: 1, bodyCount: 0)
        #expect(data2 == .stopUpload)
        let stops = machine.stopUpload()
        #expect(stops)
        #expect(machine.request == .stopped)
        let stops2 = machine.stopUpload()
        #expect(!stops2)
    }

    @Test func aRefusedUploadWithinItsLimitGoesOnAfterTheAnswer() {
        var machine = Machine(limits: Self.limits, now: 0)
        for _ in 0..<5 { _ = machine.fieldReceived(size: 1) }
        machine.headersReceived(declaredLength: nil, endStream: false, now: 1)
        _ = machine.advance()
        let answered = machine.answer(.bytes)
        #expect(answered)
        let data = machine.dataReceived(length: 1 << 20, bodyCount: 0)
        #expect(data == .discard)
        #expect(!machine.finalFrameSent()) // curl must be able to finish sending and read the 431
        let data2 = machine.dataReceived(length: 1 << 20, bodyCount: 0)
        #expect(data2 == .discard)
        let data3 = machine.dataReceived(length: 1, bodyCount: 0)
        #expect(data3 == .stopUpload)
    }

    @Test func aCompleteRequestIsDispatchedOnce() {
        var machine = Self.receivingBody()
        let data = machine.dataReceived(length: 5, bodyCount: 0)
        #expect(data == .append)
        machine.dataFrameReceived(endStream: true, now: 20)
        #expect(machine.isRequestComplete)
        let advanced = machine.advance()
        #expect(advanced == .dispatch)
        #expect(machine.response == .accepted)
        let advanced2 = machine.advance()
        #expect(advanced2 == .none)
    }

    @Test func anUpgradedRequestIsCompleteFromTheStart() {
        var machine = Machine.upgraded(limits: Self.limits)
        #expect(machine.isRequestComplete)
        let answered = machine.answer(.headersOnly)
        #expect(answered)
        #expect(machine.response == .answered(.headersOnly))
    }

    // MARK: the response

    @Test func aStreamIsAnsweredOnce() {
        var machine = Self.accepted()
        let answered = machine.answer(.bytes)
        #expect(answered)
        #expect(machine.response == .answered(.ended))
        let answered2 = machine.answer(.headersOnly)
        #expect(!answered2)
        #expect(machine.response == .answered(.ended))
    }

    @Test func aBufferedBodyEndsWithItsLastBytes() {
        var machine = Self.accepted()
        _ = machine.answer(.bytes)
        let read = machine.bodyRead(count: 10, pendingAfter: 5)
        #expect(read == .data)
        let read2 = machine.bodyRead(count: 5, pendingAfter: 0)
        #expect(read2 == .endOfBody)
    }

    @Test func anOpenStreamWaitsForBytesAndIsResumedByThem() {
        var machine = Self.streaming()
        #expect(machine.isBodyOpen)
        let read = machine.bodyRead(count: 0, pendingAfter: 0)
        #expect(read == .deferred)
        #expect(machine.response == .answered(.waitingForBytes(remaining: nil)))
        let written = machine.bodyWritten(count: 4)
        #expect(written == .queue(count: 4, resume: true))
        let written2 = machine.bodyWritten(count: 4)
        #expect(written2 == .queue(count: 4, resume: false))
        let read2 = machine.bodyRead(count: 8, pendingAfter: 0)
        #expect(read2 == .data)
        let ended = machine.bodyEnded()
        #expect(ended == .finish(resume: false))
        let read3 = machine.bodyRead(count: 0, pendingAfter: 0)
        #expect(read3 == .endOfBody)
    }

    @Test func anEndWhileWaitingResumesSoEndStreamIsSent() {
        var machine = Self.streaming()
        _ = machine.bodyRead(count: 0, pendingAfter: 0)
        let ended = machine.bodyEnded()
        #expect(ended == .finish(resume: true))
        #expect(machine.response == .answered(.ended))
        #expect(!machine.isBodyOpen)
    }

    @Test func aDeclaredStreamNeverSendsMoreThanAnnounced() {
        var machine = Self.streaming(declaredLength: 6)
        let written = machine.bodyWritten(count: 4)
        #expect(written == .queue(count: 4, resume: false))
        let written2 = machine.bodyWritten(count: 4)
        #expect(written2 == .queue(count: 2, resume: false))
        let written3 = machine.bodyWritten(count: 4)
        #expect(written3 == .queue(count: 0, resume: false))
        let ended = machine.bodyEnded()
        #expect(ended == .finish(resume: false))
    }

    @Test func aDeclaredStreamThatEndsShortIsReset() {
        var machine = Self.streaming(declaredLength: 6)
        _ = machine.bodyWritten(count: 5)
        let ended = machine.bodyEnded()
        #expect(ended == .reset)
        #expect(machine.response == .answered(.ended))
    }

    @Test func writesAndEndsAfterTheEndAreDropped() {
        var machine = Self.streaming()
        _ = machine.bodyEnded()
        let written = machine.bodyWritten(count: 3)
        #expect(written == .drop)
        let ended = machine.bodyEnded()
        #expect(ended == .ignore)
        var bytes = Self.accepted()
        _ = bytes.answer(.bytes)
        let written2 = bytes.bodyWritten(count: 3)
        #expect(written2 == .drop)
        var unanswered = Self.accepted()
        let written3 = unanswered.bodyWritten(count: 3)
        #expect(written3 == .drop)
        let ended2 = unanswered.bodyEnded()
        #expect(ended2 == .ignore)
    }

    @Test func shutdownEndsAnOpenBodyAsItIs() {
        var waiting = Self.streaming(declaredLength: 100)
        _ = waiting.bodyRead(count: 0, pendingAfter: 0)
        let resumes = waiting.bodyEndedForShutdown()
        #expect(resumes)
        #expect(waiting.response == .answered(.ended))
        var sending = Self.streaming()
        let resumes2 = sending.bodyEndedForShutdown()
        #expect(!resumes2)
        #expect(sending.response == .answered(.ended))
        var ended = Self.accepted()
        _ = ended.answer(.bytes)
        let resumes3 = ended.bodyEndedForShutdown()
        #expect(!resumes3)
    }

    // MARK: stopping an upload

    @Test func anAnswerBeforeTheUploadEndedStopsItWhenNothingMayBeDiscarded() {
        var machine = Self.receivingBody()
        let answered = machine.answer(.bytes)
        #expect(answered)
        #expect(machine.finalFrameSent())
        let stops = machine.stopUpload()
        #expect(stops)
        #expect(!machine.finalFrameSent())
    }

    @Test func aCompleteRequestIsNeverStopped() {
        var machine = Self.accepted()
        _ = machine.answer(.bytes)
        #expect(!machine.finalFrameSent())
        let stops = machine.stopUpload()
        #expect(!stops)
        #expect(machine.request == .complete)
    }

    // MARK: timeouts (the clock is the numbers given)

    @Test func aHeaderBlockLeftOpenEndsTheConnection() {
        var machine = Machine(limits: Self.limits, now: 100)
        let timeout = machine.checkTimeout(now: 300, header: 200, body: 50)
        #expect(timeout == .none)
        let timeout2 = machine.checkTimeout(now: 301, header: 200, body: 50)
        #expect(timeout2 == .terminateConnection)
    }

    @Test func aSilentBodyIsAnsweredWith408ThenStopped() {
        var machine = Self.receivingBody(now: 100)
        machine.dataFrameReceived(endStream: false, now: 150)
        let timeout = machine.checkTimeout(now: 450, header: 10, body: 300)
        #expect(timeout == .none)
        let timeout2 = machine.checkTimeout(now: 451, header: 10, body: 300)
        #expect(timeout2 == .refuse)
        #expect(machine.request == .body(lastProgress: 451))
        let answered = machine.answer(.bytes)
        #expect(answered)
        // Still silent a body timeout after the answer: the upload is stopped.
        let timeout3 = machine.checkTimeout(now: 751, header: 10, body: 300)
        #expect(timeout3 == .none)
        let timeout4 = machine.checkTimeout(now: 752, header: 10, body: 300)
        #expect(timeout4 == .stopUpload)
        let stops = machine.stopUpload()
        #expect(stops)
        let timeout5 = machine.checkTimeout(now: 10_000, header: 10, body: 300)
        #expect(timeout5 == .none)
    }

    @Test func aTrickledBodyIsAnsweredWith408AtItsTotalDeadline() {
        // The request's first frame came at 0.
        var machine = Self.receivingBody(now: 100)
        // A frame every 200 never stalls for the body timeout (300)...
        for now in stride(from: UInt64(300), through: 900, by: 200) {
            machine.dataFrameReceived(endStream: false, now: now)
            #expect(machine.checkTimeout(now: now, header: 10, body: 300, bodyTotal: 1_000) == .none)
        }
        #expect(machine.checkTimeout(now: 1_000, header: 10, body: 300, bodyTotal: 1_000) == .none)
        // ...but the whole request must arrive within 1,000 of its first frame.
        let timeout = machine.checkTimeout(now: 1_001, header: 10, body: 300, bodyTotal: 1_000)
        #expect(timeout == .refuseDeadline)
        let answered = machine.answer(.bytes)
        #expect(answered)
    }

    @Test func refusedAcceptedAndCompleteStreamsAreNotTimed() {
        var refusing = Machine(limits: Self.limits, now: 0)
        for _ in 0..<5 { _ = refusing.fieldReceived(size: 1) }
        let timeout = refusing.checkTimeout(now: 10_000, header: 1, body: 1)
        #expect(timeout == .none)
        var accepted = Self.accepted()
        let timeout2 = accepted.checkTimeout(now: 10_000, header: 1, body: 1)
        #expect(timeout2 == .none)
        _ = accepted.answer(.bytes)
        let timeout3 = accepted.checkTimeout(now: 10_000, header: 1, body: 1)
        #expect(timeout3 == .none)
    }

    @Test func progressSetAfterTheTickReadTheClockDoesNotCountAsElapsed() {
        var machine = Machine(limits: Self.limits, now: 5_000)
        let timeout = machine.checkTimeout(now: 4_000, header: 1, body: 1)
        #expect(timeout == .none)
    }
}
