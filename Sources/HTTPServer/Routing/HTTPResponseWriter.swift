import Synchronization
import Transport

/// The sending end of a streamed response body. Safe to use from any task or thread.
///
/// Writes are queued on the connection's event loop. The writer counts bytes queued but not yet
/// taken by the socket: `write` suspends above the high-water mark (backpressure for producers
/// that can wait), `offer` refuses instead (for fan-out that must never be slowed by one client).
public final class HTTPResponseWriter: Sendable {
    public enum OfferResult: Sendable, Equatable {
        case queued
        /// The client is not keeping up; nothing was queued.
        case full
        /// The connection is gone; nothing more will be sent.
        case closed
    }

    private struct State {
        var unflushed = 0
        var closed = false
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var closeHandlers: [@Sendable () -> Void] = []
        /// Where unflushed bytes are also counted, across writers (see `countBytes(in:)`).
        var tally: ByteTally?
    }

    private let state = Mutex(State())
    /// The connection's event loop, and what writes bytes on it (called on that loop only).
    private let loop: EventLoop
    private let writeOnLoop: @Sendable ([UInt8]) -> Void
    private let end: @Sendable () -> Void
    /// Drops the connection (HTTP/1.1) or resets the stream (HTTP/2), on the loop.
    private let abortOnLoop: @Sendable () -> Void
    /// Above this many unflushed bytes `write` waits and `offer` refuses.
    public let highWaterMark: Int

    init(
        highWaterMark: Int, loop: EventLoop, writeOnLoop: @escaping @Sendable ([UInt8]) -> Void,
        end: @escaping @Sendable () -> Void, abort: @escaping @Sendable () -> Void = {}
    ) {
        self.highWaterMark = highWaterMark
        self.loop = loop
        self.writeOnLoop = writeOnLoop
        self.end = end
        abortOnLoop = abort
    }

    private func send(_ bytes: [UInt8]) {
        let writeOnLoop = self.writeOnLoop
        loop.execute { writeOnLoop(bytes) }
    }

    /// True once the client went away or the server is closing the connection.
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Queues bytes without waiting; refuses when the client lags by more than the high-water mark.
    /// `pastTheMark` queues anyway: for a small last message (an overflow notice) before `finish`.
    @discardableResult
    public func offer(_ bytes: [UInt8], pastTheMark: Bool = false) -> OfferResult {
        let verdict = reserve(bytes.count, pastTheMark: pastTheMark)
        if verdict == .queued, !bytes.isEmpty { send(bytes) }
        return verdict
    }

    /// The accounting half of `offer`: counts `count` bytes as queued, or refuses. What was
    /// reserved must then be sent with `send(_:to:)`, before anything else is written to this writer.
    public func reserve(_ count: Int, pastTheMark: Bool = false) -> OfferResult {
        state.withLock { s in
            if s.closed || s.finished { return .closed }
            if !pastTheMark, s.unflushed > 0 && s.unflushed + count > highWaterMark { return .full }
            s.unflushed += count
            s.tally?.add(count)
            return .queued
        }
    }

    /// Sends the same bytes to many writers that reserved room for them: one hand-off per event
    /// loop rather than one per writer (fan-out of one event to thousands of streams).
    public static func send(_ bytes: [UInt8], to writers: [HTTPResponseWriter]) {
        guard !bytes.isEmpty, !writers.isEmpty else { return }
        // A server has a few loops: a short list, found by identity, costs less than hashing.
        var byLoop: [(loop: EventLoop, writers: [HTTPResponseWriter])] = []
        for writer in writers {
            if let i = byLoop.firstIndex(where: { $0.loop === writer.loop }) {
                byLoop[i].writers.append(writer)
            } else {
                byLoop.append((writer.loop, [writer]))
            }
        }
        for (loop, group) in byLoop {
            loop.execute { for writer in group { writer.writeOnLoop(bytes) } }
        }
    }

    /// Queues bytes, first waiting while the client lags by more than the high-water mark.
    /// Returns false when the connection is gone (the bytes were dropped).
    @discardableResult
    public func write(_ bytes: [UInt8]) async -> Bool {
        while true {
            switch offer(bytes) {
            case .queued: return true
            case .closed: return false
            case .full:
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { s -> Bool in
                        if s.closed || s.unflushed <= highWaterMark / 2 { return true }
                        s.waiters.append(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    public func write(_ text: String) async -> Bool { await write(Array(text.utf8)) }

    /// Ends the body. Further writes are refused. Called by the server when the producer returns.
    public func finish() {
        let first = state.withLock { s -> Bool in
            defer { s.finished = true }
            return !s.finished && !s.closed
        }
        if first { end() }
    }

    /// Bytes queued for the client that the socket has not taken yet.
    public var unflushedCount: Int { state.withLock { $0.unflushed } }

    /// From now on also counts this writer's unflushed bytes in `tally` (what many streams hold
    /// in total), until the connection closes.
    public func countBytes(in tally: ByteTally) {
        state.withLock { s in
            guard s.tally == nil, !s.closed else { return }
            s.tally = tally
            tally.add(s.unflushed)
        }
    }

    /// Gives up on the client: the connection is dropped (HTTP/2: the stream is reset) without
    /// sending what is queued, so its memory is freed now rather than after the write timeout.
    public func abort() {
        // Its bytes leave the tally now: whoever counts on it must not drop another stream
        // for bytes that are already on their way out.
        state.withLock { s in
            s.tally?.add(-s.unflushed)
            s.tally = nil
        }
        let abortOnLoop = self.abortOnLoop
        loop.execute { abortOnLoop() }
    }

    /// Runs `handler` once when the connection closes (at once if it already has).
    public func onClose(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { s -> Bool in
            if s.closed { return true }
            s.closeHandlers.append(handler)
            return false
        }
        if runNow { handler() }
    }

    /// Suspends until the connection closes.
    public func waitUntilClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            onClose { continuation.resume() }
        }
    }

    // MARK: called by the connection

    /// The socket took `count` more bytes of this body.
    func flushed(_ count: Int) {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.tally?.add(-min(count, s.unflushed))
            s.unflushed = max(0, s.unflushed - count)
            guard s.unflushed <= highWaterMark / 2 else { return [] }
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for waiter in ready { waiter.resume() }
    }

    /// The connection is gone (client left, timeout, shutdown).
    func markClosed() {
        let (waiters, handlers) = state.withLock { s -> ([CheckedContinuation<Void, Never>], [@Sendable () -> Void]) in
            guard !s.closed else { return ([], []) }
            s.closed = true
            // The connection's buffers go with it.
            s.tally?.add(-s.unflushed)
            s.tally = nil
            defer { s.waiters.removeAll(); s.closeHandlers.removeAll() }
            return (s.waiters, s.closeHandlers)
        }
        for waiter in waiters { waiter.resume() }
        for handler in handlers { handler() }
    }
}

/// Bytes counted across many writers (the event streams' total backlog), read without a lock.
public final class ByteTally: Sendable {
    private let bytes = Atomic<Int>(0)

    public init() {}

    public var count: Int { bytes.load(ordering: .relaxed) }

    public func add(_ count: Int) { bytes.add(count, ordering: .relaxed) }
}
