import HTTPCore
import Testing

@testable import HTTPServer

/// The HTTP/1.x connection lifecycle without sockets: every transition, its actions, and the
/// timeouts through an injected clock (plain numbers: nothing sleeps, no real clock is read).
@Suite("HTTP/1 connection state machine")
struct HTTPConnectionStateMachineTests {
    typealias Machine = HTTPConnectionStateMachine

    static let timeouts = Machine.Timeouts(idle: 1_000, header: 200, body: 300, write: 400, linger: 50)

    /// A connection that received a GET (keep-alive unless told otherwise) at time 10.
    static func responding(
        isHead: Bool = false, version: HTTPVersion = .http1_1, keepAlive: Bool = true
    ) -> Machine {
        var machine = Machine(timeouts: timeouts, now: 0)
        machine.headStarted(now: 5)
        machine.requestReceived(isHead: isHead, version: version, keepAlive: keepAlive)
        return machine
    }

    static func streaming(declaredLength: Int? = nil, version: HTTPVersion = .http1_1) -> Machine {
        var machine = responding(version: version)
        _ = machine.responseReady(allowsBody: true, body: .stream(declaredLength: declaredLength), now: 20)
        return machine
    }

    // MARK: reading a request

    @Test func aNewConnectionAwaitsARequestAndReads() {
        let machine = Machine(timeouts: Self.timeouts, now: 7)
        #expect(machine.state == .awaitingRequest(since: 7))
        #expect(machine.isReadingRequest)
        #expect(machine.acceptsUpgrade)
        #expect(machine.inputInterest(bufferedInput: 0, readAheadLimit: 10) == .readAndHangUp)
    }

    @Test func theFirstBytesStartTheHeaderClockOnce() {
        var machine = Machine(timeouts: Self.timeouts, now: 0)
        machine.headStarted(now: 5)
        #expect(machine.state == .readingHead(since: 5))
        machine.headStarted(now: 9)
        #expect(machine.state == .readingHead(since: 5))
        machine.bytesReceived(now: 9)
        #expect(machine.state == .readingHead(since: 5))
    }

    @Test func aHeadWithABodyReadsTheBodyAndBytesKeepItAlive() {
        var machine = Machine(timeouts: Self.timeouts, now: 0)
        machine.headStarted(now: 5)
        let body = machine.bodyExpected(expectsContinue: false, bodyArriving: false, now: 6)
        #expect(body == .none)
        #expect(machine.state == .readingBody(since: 6, lastProgress: 6))
        machine.bytesReceived(now: 40)
        #expect(machine.state == .readingBody(since: 6, lastProgress: 40))
    }

    @Test func continueIsSentOnlyWhenTheClientWaitsForIt() {
        var waiting = Machine(timeouts: Self.timeouts, now: 0)
        let body = waiting.bodyExpected(expectsContinue: true, bodyArriving: false, now: 1)
        #expect(body == .sendContinue)
        var sending = Machine(timeouts: Self.timeouts, now: 0)
        let body2 = sending.bodyExpected(expectsContinue: true, bodyArriving: true, now: 1)
        #expect(body2 == .none)
        #expect(sending.state == .readingBody(since: 1, lastProgress: 1))
    }

    @Test func aRequestKeepsTheConnectionOnlyIfItAsksAndNobodyIsClosing() {
        #expect(Self.responding().state == .responding(.init(isHead: false, version: .http1_1, keepAlive: true)))
        #expect(
            Self.responding(keepAlive: false).state
                == .responding(.init(isHead: false, version: .http1_1, keepAlive: false)))

        var peerClosed = Machine(timeouts: Self.timeouts, now: 0)
        peerClosed.endOfInput()
        peerClosed.requestReceived(isHead: true, version: .http1_0, keepAlive: true)
        #expect(peerClosed.state == .responding(.init(isHead: true, version: .http1_0, keepAlive: false)))

        var shuttingDown = Machine(timeouts: Self.timeouts, now: 0)
        shuttingDown.headStarted(now: 1)
        let shutdown = shuttingDown.beginShutdown()
        #expect(shutdown == .none)
        #expect(!shuttingDown.acceptsUpgrade)
        shuttingDown.requestReceived(isHead: false, version: .http1_1, keepAlive: true)
        #expect(shuttingDown.state == .responding(.init(isHead: false, version: .http1_1, keepAlive: false)))
    }

    @Test func aRefusedRequestIsAnsweredOverHTTP11AndCloses() {
        var machine = Machine(timeouts: Self.timeouts, now: 0)
        machine.headStarted(now: 1)
        machine.requestRefused()
        #expect(machine.state == .responding(.init(isHead: false, version: .http1_1, keepAlive: false)))
        let action = machine.responseReady(allowsBody: true, body: .bytes(count: 12), now: 2)
        #expect(
            action
                == .complete(
                    .init(version: .http1_1, framing: .contentLength(12), declaredLength: nil, keepAlive: false),
                    withBody: true, next: .close))
        #expect(machine.state == .closing)
    }

    @Test func handingOverToHTTP2EndsTheConnection() {
        var machine = Machine(timeouts: Self.timeouts, now: 0)
        machine.handedOver()
        #expect(machine.isClosed)
        let closing = machine.close()
        #expect(closing == .none)
    }

    // MARK: responding with bytes

    @Test func aKeptResponseWaitsForTheNextRequestFromItsEnd() {
        var machine = Self.responding()
        let action = machine.responseReady(allowsBody: true, body: .bytes(count: 5), now: 30)
        #expect(
            action
                == .complete(
                    .init(version: .http1_1, framing: .contentLength(5), declaredLength: nil, keepAlive: true),
                    withBody: true, next: .awaitNextRequest))
        #expect(machine.state == .awaitingRequest(since: 30))
        let drained = machine.outputDrained(now: 31)
        #expect(drained == .none)
    }

    @Test func headAnnouncesTheLengthWithoutTheBody() {
        var machine = Self.responding(isHead: true)
        let action = machine.responseReady(allowsBody: true, body: .bytes(count: 5), now: 30)
        #expect(
            action
                == .complete(
                    .init(version: .http1_1, framing: .none, declaredLength: 5, keepAlive: true), withBody: false,
                    next: .awaitNextRequest))
    }

    @Test func aBodylessStatusSendsNoBodyAndNoLength() {
        var machine = Self.responding()
        let action = machine.responseReady(allowsBody: false, body: .bytes(count: 5), now: 30)
        #expect(
            action
                == .complete(
                    .init(version: .http1_1, framing: .none, declaredLength: nil, keepAlive: true), withBody: false,
                    next: .awaitNextRequest))
    }

    @Test func withoutKeepAliveTheConnectionClosesAfterSendingThenLingers() {
        var machine = Self.responding(version: .http1_0, keepAlive: false)
        let action = machine.responseReady(allowsBody: true, body: .bytes(count: 1), now: 30)
        #expect(
            action
                == .complete(
                    .init(version: .http1_0, framing: .contentLength(1), declaredLength: nil, keepAlive: false),
                    withBody: true, next: .close))
        #expect(machine.state == .closing)
        #expect(machine.inputInterest(bufferedInput: 0, readAheadLimit: 10) == .hangUp)
        let drained = machine.outputDrained(now: 100)
        #expect(drained == .shutDownOutput)
        #expect(machine.state == .lingering(until: 150))
        #expect(machine.isLingering)
        #expect(machine.inputInterest(bufferedInput: 0, readAheadLimit: 10) == .readAndHangUp)
    }

    @Test func aResponseForAConnectionThatClosedMeanwhileIsIgnored() {
        var machine = Self.responding()
        let closing = machine.close()
        #expect(closing == .close(streamOpen: false))
        let response = machine.responseReady(allowsBody: true, body: .bytes(count: 5), now: 30)
        #expect(response == .ignore)
        #expect(machine.isClosed)

        var reading = Machine(timeouts: Self.timeouts, now: 0)
        let response2 = reading.responseReady(allowsBody: true, body: .bytes(count: 5), now: 30)
        #expect(response2 == .ignore)
        #expect(reading.state == .awaitingRequest(since: 0))
    }

    // MARK: streaming

    @Test func anUndeclaredStreamIsChunkedOverHTTP11AndKeepsTheConnection() {
        var machine = Self.responding()
        let action = machine.responseReady(allowsBody: true, body: .stream(declaredLength: nil), now: 20)
        #expect(
            action == .startStream(.init(version: .http1_1, framing: .chunked, declaredLength: nil, keepAlive: true)))
        #expect(machine.isStreaming)
        let write = machine.streamWrite(count: 3)
        #expect(write == .chunk)
        let end = machine.streamEnded(now: 90)
        #expect(end == .finish(lastChunk: true, next: .awaitNextRequest))
        #expect(machine.state == .awaitingRequest(since: 90))
    }

    @Test func anUndeclaredStreamOverHTTP10EndsWithTheConnection() {
        var machine = Self.responding(version: .http1_0)
        let action = machine.responseReady(allowsBody: true, body: .stream(declaredLength: nil), now: 20)
        #expect(
            action
                == .startStream(.init(version: .http1_0, framing: .untilClose, declaredLength: nil, keepAlive: false)))
        let write = machine.streamWrite(count: 3)
        #expect(write == .bytes(count: 3))
        let end = machine.streamEnded(now: 90)
        #expect(end == .finish(lastChunk: false, next: .close))
        #expect(machine.state == .closing)
    }

    @Test func aDeclaredStreamNeverSendsMoreThanAnnounced() {
        var machine = Self.streaming(declaredLength: 5)
        #expect(
            machine.state
                == .streaming(
                    .init(isHead: false, version: .http1_1, keepAlive: true),
                    .init(framing: .contentLength(5), remaining: 5)))
        let write = machine.streamWrite(count: 3)
        #expect(write == .bytes(count: 3))
        let write2 = machine.streamWrite(count: 3)
        #expect(write2 == .bytes(count: 2))
        let write3 = machine.streamWrite(count: 3)
        #expect(write3 == .bytes(count: 0))
        let end = machine.streamEnded(now: 90)
        #expect(end == .finish(lastChunk: false, next: .awaitNextRequest))
    }

    @Test func aDeclaredStreamThatEndsShortClosesTheConnection() {
        var machine = Self.streaming(declaredLength: 5)
        let write = machine.streamWrite(count: 4)
        #expect(write == .bytes(count: 4))
        let end = machine.streamEnded(now: 90)
        #expect(end == .finish(lastChunk: false, next: .close))
        #expect(machine.state == .closing)
    }

    @Test func aStreamToAHeadRequestIsOnlyItsHead() {
        var machine = Self.responding(isHead: true)
        let action = machine.responseReady(allowsBody: true, body: .stream(declaredLength: 42), now: 20)
        #expect(
            action
                == .complete(
                    .init(version: .http1_1, framing: .none, declaredLength: 42, keepAlive: true), withBody: false,
                    next: .awaitNextRequest))
        #expect(!machine.isStreaming)
    }

    @Test func streamedBytesAreReportedOnceTheSocketTookThem() {
        var machine = Self.streaming()
        _ = machine.streamWrite(count: 3)
        _ = machine.streamWrite(count: 4)
        let drained = machine.outputDrained(now: 30)
        #expect(drained == .streamFlushed(7))
        let drained2 = machine.outputDrained(now: 31)
        #expect(drained2 == .none)
    }

    @Test func writesAndEndsOutsideAStreamAreDropped() {
        var machine = Self.responding()
        let write = machine.streamWrite(count: 3)
        #expect(write == .drop)
        let end = machine.streamEnded(now: 30)
        #expect(end == .ignore)
        #expect(machine.state == .responding(.init(isHead: false, version: .http1_1, keepAlive: true)))
    }

    // MARK: the client's end of input

    @Test func endOfInputClosesAConnectionThatWaitsForInput() {
        let waiting: [Machine] = {
            var awaiting = Machine(timeouts: Self.timeouts, now: 0)
            var head = Machine(timeouts: Self.timeouts, now: 0)
            head.headStarted(now: 1)
            var body = Machine(timeouts: Self.timeouts, now: 0)
            _ = body.bodyExpected(expectsContinue: false, bodyArriving: false, now: 1)
            var lingering = Self.responding(keepAlive: false)
            _ = lingering.responseReady(allowsBody: true, body: .bytes(count: 1), now: 2)
            _ = lingering.outputDrained(now: 3)
            awaiting.endOfInput()
            head.endOfInput()
            body.endOfInput()
            lingering.endOfInput()
            return [awaiting, head, body, lingering]
        }()
        for var machine in waiting {
            let afterEnd = machine.afterEndOfInput()
            #expect(afterEnd == .close)
            #expect(machine.inputInterest(bufferedInput: 0, readAheadLimit: 10) == .none)
        }
    }

    @Test func endOfInputEndsAStreamForGood() {
        var machine = Self.streaming()
        machine.endOfInput()
        let afterEnd = machine.afterEndOfInput()
        #expect(afterEnd == .close)
        let closing = machine.close()
        #expect(closing == .close(streamOpen: true))
    }

    @Test func endOfInputLetsTheResponseGoOutThenCloses() {
        var machine = Self.responding()
        let afterEnd = machine.afterEndOfInput()
        #expect(afterEnd == .none) // nothing ended yet
        machine.endOfInput()
        let afterEnd2 = machine.afterEndOfInput()
        #expect(afterEnd2 == .none)
        #expect(machine.state == .responding(.init(isHead: false, version: .http1_1, keepAlive: false)))
        #expect(machine.inputInterest(bufferedInput: 0, readAheadLimit: 10) == .none)
        let action = machine.responseReady(allowsBody: true, body: .bytes(count: 2), now: 30)
        #expect(
            action
                == .complete(
                    .init(version: .http1_1, framing: .contentLength(2), declaredLength: nil, keepAlive: false),
                    withBody: true, next: .close))
    }

    @Test func endOfInputWhileClosingChangesNothing() {
        var machine = Self.responding(keepAlive: false)
        _ = machine.responseReady(allowsBody: true, body: .bytes(count: 1), now: 2)
        machine.endOfInput()
        let afterEnd = machine.afterEndOfInput()
        #expect(afterEnd == .none)
        #expect(machine.state == .closing)
    }

    // MARK: reading ahead

    @Test func readingAheadPausesAtTheLimitWhileAResponseIsPending() {
        let machine = Self.responding()
        #expect(machine.inputInterest(bufferedInput: 9, readAheadLimit: 10) == .readAndHangUp)
        #expect(machine.inputInterest(bufferedInput: 10, readAheadLimit: 10) == .hangUp)
        let stream = Self.streaming()
        #expect(stream.inputInterest(bufferedInput: 10, readAheadLimit: 10) == .hangUp)
        var head = Machine(timeouts: Self.timeouts, now: 0)
        head.headStarted(now: 1)
        #expect(head.inputInterest(bufferedInput: 1_000, readAheadLimit: 10) == .readAndHangUp)
    }

    // MARK: timeouts (the clock is the numbers given)

    @Test func anIdleConnectionClosesAfterTheIdleTimeout() {
        var machine = Machine(timeouts: Self.timeouts, now: 100)
        let timeout = machine.checkTimeouts(now: 1_100, pendingOutputSince: nil)
        #expect(timeout == .none)
        let timeout2 = machine.checkTimeouts(now: 1_101, pendingOutputSince: nil)
        #expect(timeout2 == .close(.idle))
    }

    @Test func aSlowHeadIsRefusedWith408() {
        var machine = Machine(timeouts: Self.timeouts, now: 0)
        machine.headStarted(now: 100)
        let timeout = machine.checkTimeouts(now: 300, pendingOutputSince: nil)
        #expect(timeout == .none)
        let timeout2 = machine.checkTimeouts(now: 301, pendingOutputSince: nil)
        #expect(timeout2 == .refuse(.header))
        #expect(machine.state == .responding(.init(isHead: false, version: .http1_1, keepAlive: false)))
        // Answering is not timed.
        let timeout3 = machine.checkTimeouts(now: 100_000, pendingOutputSince: nil)
        #expect(timeout3 == .none)
    }

    @Test func aStalledBodyIsRefusedWith408AndProgressRestartsTheClock() {
        var machine = Machine(timeouts: Self.timeouts, now: 0)
        _ = machine.bodyExpected(expectsContinue: false, bodyArriving: false, now: 100)
        machine.bytesReceived(now: 350)
        let timeout = machine.checkTimeouts(now: 650, pendingOutputSince: nil)
        #expect(timeout == .none)
        let timeout2 = machine.checkTimeouts(now: 651, pendingOutputSince: nil)
        #expect(timeout2 == .refuse(.body))
        #expect(machine.state == .responding(.init(isHead: false, version: .http1_1, keepAlive: false)))
    }

    @Test func aTrickledBodyIsRefusedWith408AtItsTotalDeadline() {
        var timeouts = Self.timeouts
        timeouts.bodyTotal = 1_000
        var machine = Machine(timeouts: timeouts, now: 0)
        _ = machine.bodyExpected(expectsContinue: false, bodyArriving: false, now: 100)
        // A byte every 250 keeps the stall clock from firing...
        for now in stride(from: UInt64(350), through: 1_100, by: 250) {
            machine.bytesReceived(now: now)
            #expect(machine.checkTimeouts(now: now, pendingOutputSince: nil) == .none)
        }
        // ...but not the body's deadline, counted from its start.
        machine.bytesReceived(now: 1_101)
        let timeout = machine.checkTimeouts(now: 1_101, pendingOutputSince: nil)
        #expect(timeout == .refuse(.bodyTotal))
        #expect(machine.state == .responding(.init(isHead: false, version: .http1_1, keepAlive: false)))
    }

    @Test func aStalledWriteClosesWhateverTheState() {
        var streaming = Self.streaming()
        let timeout = streaming.checkTimeouts(now: 500, pendingOutputSince: 100)
        #expect(timeout == .none)
        let timeout2 = streaming.checkTimeouts(now: 501, pendingOutputSince: 100)
        #expect(timeout2 == .close(.write))
        var awaiting = Machine(timeouts: Self.timeouts, now: 0)
        let timeout3 = awaiting.checkTimeouts(now: 501, pendingOutputSince: 100)
        #expect(timeout3 == .close(.write))
    }

    @Test func lingeringEndsAtItsDeadline() {
        var machine = Self.responding(keepAlive: false)
        _ = machine.responseReady(allowsBody: true, body: .bytes(count: 1), now: 2)
        _ = machine.outputDrained(now: 1_000)
        let timeout = machine.checkTimeouts(now: 1_049, pendingOutputSince: nil)
        #expect(timeout == .none)
        let timeout2 = machine.checkTimeouts(now: 1_050, pendingOutputSince: nil)
        #expect(timeout2 == .close(nil))
    }

    @Test func timesSetAfterTheTickReadTheClockDoNotCountAsElapsed() {
        var machine = Machine(timeouts: Self.timeouts, now: 5_000)
        let timeout = machine.checkTimeouts(now: 4_000, pendingOutputSince: 4_500)
        #expect(timeout == .none)
    }

    @Test func respondingAndStreamingAreNotTimed() {
        var responding = Self.responding()
        let timeout = responding.checkTimeouts(now: 1_000_000, pendingOutputSince: nil)
        #expect(timeout == .none)
        var streaming = Self.streaming()
        let timeout2 = streaming.checkTimeouts(now: 1_000_000, pendingOutputSince: nil)
        #expect(timeout2 == .none)
    }

    // MARK: shutdown and close

    @Test func shutdownClosesAnIdleConnectionAtOnce() {
        var machine = Machine(timeouts: Self.timeouts, now: 0)
        let shutdown = machine.beginShutdown()
        #expect(shutdown == .close)
        // Should it survive a tick, the tick closes it (no idle timeout counted).
        let timeout = machine.checkTimeouts(now: 1, pendingOutputSince: nil)
        #expect(timeout == .close(nil))
    }

    @Test func shutdownEndsAStreamCleanly() {
        var chunked = Self.streaming()
        let shutdown = chunked.beginShutdown()
        #expect(shutdown == .endStream(lastChunk: true))
        #expect(chunked.state == .closing)
        let write = chunked.streamWrite(count: 1)
        #expect(write == .drop)
        var declared = Self.streaming(declaredLength: 10)
        let shutdown2 = declared.beginShutdown()
        #expect(shutdown2 == .endStream(lastChunk: false))
    }

    @Test func shutdownLetsTheCurrentResponseFinishWithConnectionClose() {
        var machine = Self.responding()
        let shutdown = machine.beginShutdown()
        #expect(shutdown == .none)
        let action = machine.responseReady(allowsBody: true, body: .bytes(count: 2), now: 30)
        #expect(
            action
                == .complete(
                    .init(version: .http1_1, framing: .contentLength(2), declaredLength: nil, keepAlive: false),
                    withBody: true, next: .close))
    }

    @Test func closingIsIdempotentAndSaysWhetherAStreamWasOpen() {
        var streaming = Self.streaming()
        let closing = streaming.close()
        #expect(closing == .close(streamOpen: true))
        let closing2 = streaming.close()
        #expect(closing2 == .none)
        let write = streaming.streamWrite(count: 1)
        #expect(write == .drop)
        var awaiting = Machine(timeouts: Self.timeouts, now: 0)
        let closing3 = awaiting.close()
        #expect(closing3 == .close(streamOpen: false))
        let timeout = awaiting.checkTimeouts(now: 1_000_000, pendingOutputSince: nil)
        #expect(timeout == .none)
    }

    @Test func pipelinedRequestsFollowOneAnother() {
        var machine = Machine(timeouts: Self.timeouts, now: 0)
        for round in 0..<3 {
            let now = UInt64(round * 10)
            machine.requestReceived(isHead: false, version: .http1_1, keepAlive: true)
            let action = machine.responseReady(allowsBody: true, body: .bytes(count: round), now: now + 1)
            #expect(
                action
                    == .complete(
                        .init(version: .http1_1, framing: .contentLength(round), declaredLength: nil, keepAlive: true),
                        withBody: true, next: .awaitNextRequest))
            #expect(machine.state == .awaitingRequest(since: now + 1))
        }
    }

    // MARK: events that cannot happen (debug builds stop)

    #if DEBUG
    @Test func aRequestWhileRespondingIsRefused() async {
        await #expect(processExitsWith: .failure) {
            var machine = HTTPConnectionStateMachine(
                timeouts: .init(idle: 1, header: 1, body: 1, write: 1), now: 0)
            machine.requestReceived(isHead: false, version: .http1_1, keepAlive: true)
            machine.requestReceived(isHead: false, version: .http1_1, keepAlive: true)
        }
    }

    @Test func aBodyWhileStreamingIsRefused() async {
        await #expect(processExitsWith: .failure) {
            var machine = HTTPConnectionStateMachine(
                timeouts: .init(idle: 1, header: 1, body: 1, write: 1), now: 0)
            machine.requestReceived(isHead: false, version: .http1_1, keepAlive: true)
            _ = machine.responseReady(allowsBody: true, body: .stream(declaredLength: nil), now: 1)
            _ = machine.bodyExpected(expectsContinue: false, bodyArriving: false, now: 2)
        }
    }

    @Test func aRefusalWhileClosingIsRefused() async {
        await #expect(processExitsWith: .failure) {
            var machine = HTTPConnectionStateMachine(
                timeouts: .init(idle: 1, header: 1, body: 1, write: 1), now: 0)
            machine.requestReceived(isHead: false, version: .http1_1, keepAlive: false)
            _ = machine.responseReady(allowsBody: true, body: .bytes(count: 1), now: 1)
            machine.requestRefused()
        }
    }

    @Test func aSwitchToHTTP2WhileRespondingIsRefused() async {
        await #expect(processExitsWith: .failure) {
            var machine = HTTPConnectionStateMachine(
                timeouts: .init(idle: 1, header: 1, body: 1, write: 1), now: 0)
            machine.requestReceived(isHead: false, version: .http1_1, keepAlive: true)
            machine.handedOver()
        }
    }

    @Test func aLegalSequenceDoesNotStop() async {
        // The counterpart of the tests above: the same harness exits cleanly when nothing is wrong.
        await #expect(processExitsWith: .success) {
            var machine = HTTPConnectionStateMachine(
                timeouts: .init(idle: 1, header: 1, body: 1, write: 1), now: 0)
            machine.requestReceived(isHead: false, version: .http1_1, keepAlive: true)
            _ = machine.responseReady(allowsBody: true, body: .bytes(count: 1), now: 1)
            machine.requestReceived(isHead: false, version: .http1_1, keepAlive: true)
        }
    }
    #endif
}
