import HTTPServer
import Synchronization

/// One subscriber's bounded queue of events, filled by the `EventHub` and drained by the task
/// that writes the subscriber's SSE stream. When the queue would pass its limit the subscriber
/// is marked overflowed: it gets a last `overflow` message and is disconnected, and nobody else
/// waits for it.
///
/// Fast path: once the stream is attached and nothing is queued or being written, room for an
/// event is reserved on the connection's writer and the hub sends it there, with no task
/// wake-up; only when the client lags (the writer is full) do events queue here for the
/// stream's task to drain.
public final class EventSubscription: Sendable {
    /// What the writer gets from `next()`.
    public enum Delivery: Sendable {
        /// Events to write, oldest first.
        case events([GatewayEvent])
        /// Nothing happened for a heartbeat interval: write a comment.
        case heartbeat
        /// The subscriber fell behind by more than the queue holds: say so and close.
        case overflow(dropped: Int)
        /// The hub closed this subscription (shutdown or unsubscribed).
        case closed
    }

    private struct State {
        var queue: [GatewayEvent] = []
        /// The bytes of `queue` as this subscriber would be sent them (counted in the hub's tally).
        var queuedBytes = 0
        var overflowedBy = 0
        var heartbeatDue = false
        var closed = false
        var waiter: CheckedContinuation<Delivery, Never>?
        /// The stream's writer, once its opening lines are out (the fast path).
        var direct: HTTPResponseWriter?
        var previews = false
        /// The stream's task holds taken events it has not finished writing: keep order behind it.
        var writing = false
        /// The hub's count of every subscriber's backlog.
        let tally: ByteTally

        /// What a waiting writer should get now, if anything; queued events come before an overflow
        /// notice, which comes before close.
        mutating func take() -> Delivery? {
            if !queue.isEmpty {
                // From here the bytes are the writer's, which counts them itself.
                tally.add(-queuedBytes)
                queuedBytes = 0
                defer { queue.removeAll(keepingCapacity: true); heartbeatDue = false; writing = true }
                return .events(queue)
            }
            if overflowedBy > 0 { defer { overflowedBy = 0; closed = true }; return .overflow(dropped: overflowedBy) }
            if closed { return .closed }
            if heartbeatDue { heartbeatDue = false; return .heartbeat }
            return nil
        }

        /// Hands the next delivery to a waiting writer, if one is waiting.
        mutating func wake() -> (CheckedContinuation<Delivery, Never>?, Delivery?) {
            guard let waiter, let delivery = take() else { return (nil, nil) }
            self.waiter = nil
            return (waiter, delivery)
        }
    }

    public let filter: EventFilter
    let limit: Int

    private let state: Mutex<State>

    init(filter: EventFilter, limit: Int, replay: [GatewayEvent], tally: ByteTally = ByteTally()) {
        self.filter = filter
        self.limit = limit
        // The replay is bounded by the hub's buffer, not by the live limit: a reconnecting client
        // must get everything it missed that is still held.
        var initial = State(tally: tally)
        initial.queue = replay
        initial.queuedBytes = replay.reduce(0) { $0 + Self.size(of: $1, previews: filter.previews) }
        tally.add(initial.queuedBytes)
        state = Mutex(initial)
    }

    static func size(of event: GatewayEvent, previews: Bool) -> Int {
        previews ? (event.encodedWithPreview ?? event.encoded).count : event.encoded.count
    }

    /// Waits for the next thing to write.
    public func next() async -> Delivery {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Delivery? in
                if let delivery = s.take() { return delivery }
                s.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Lets the publisher write to `writer` directly while this subscriber keeps up.
    public func attach(_ writer: HTTPResponseWriter) {
        let tally = state.withLock {
            $0.direct = writer; $0.previews = filter.previews
            return $0.tally
        }
        writer.countBytes(in: tally)
    }

    /// The stream's task finished writing what `next()` gave it.
    public func finishedWriting() {
        state.withLock { $0.writing = false }
    }

    // MARK: called by the hub

    /// What `enqueue` did with an event.
    enum Enqueued {
        /// Room was reserved on the stream's writer: the hub sends the event's bytes to it (with
        /// those of every other direct subscriber, one hand-off per event loop).
        case direct(HTTPResponseWriter, previews: Bool)
        case queued
        /// This very event made the subscriber overflow (counted once).
        case overflowed
        case ignored
    }

    /// Queues an event, or reserves room for it on the writer while the subscriber keeps up.
    func enqueue(_ event: GatewayEvent) -> Enqueued {
        let (waiter, delivery, result) = state.withLock {
            s -> (CheckedContinuation<Delivery, Never>?, Delivery?, Enqueued) in
            guard !s.closed else { return (nil, nil, .ignored) }
            // Terminal events take the task's path: a run's own stream ends after them.
            if let writer = s.direct, s.queue.isEmpty, !s.writing, s.overflowedBy == 0, !event.isTerminal {
                switch writer.reserve(Self.size(of: event, previews: s.previews)) {
                case .queued: return (nil, nil, .direct(writer, previews: s.previews))
                case .closed: return (nil, nil, .ignored)
                case .full: break // the client lags: queue it, the stream's task waits for room
                }
            }
            if s.overflowedBy > 0 || s.queue.count >= limit {
                s.overflowedBy += 1
            } else {
                s.queue.append(event)
                let size = Self.size(of: event, previews: filter.previews)
                s.queuedBytes += size
                s.tally.add(size)
            }
            let (waiter, delivery) = s.wake()
            return (waiter, delivery, s.overflowedBy == 1 ? .overflowed : .queued)
        }
        if let waiter, let delivery { waiter.resume(returning: delivery) }
        return result
    }

    func heartbeat() {
        let (waiter, delivery) = state.withLock { s in
            s.heartbeatDue = true
            return s.wake()
        }
        if let waiter, let delivery { waiter.resume(returning: delivery) }
    }

    func close() {
        let (waiter, delivery) = state.withLock { s in
            s.closed = true
            return s.wake()
        }
        if let waiter, let delivery { waiter.resume(returning: delivery) }
    }

    /// Dropped to keep all subscribers within the hub's byte budget: the client is not reading,
    /// so no last message could reach it; its connection goes now, with what was queued for it.
    func drop() {
        let writer = state.withLock { s in
            s.overflowedBy = 0
            return s.direct
        }
        writer?.abort()
        close()
        discardQueue()
    }

    /// Unsubscribed: nothing will write the queue any more, so its bytes leave the tally.
    func discardQueue() {
        state.withLock { s in
            s.tally.add(-s.queuedBytes)
            s.queuedBytes = 0
            s.queue.removeAll()
        }
    }

    /// Bytes this subscriber has yet to receive: queued here and unflushed on its connection.
    var backlogBytes: Int {
        let (queued, writer) = state.withLock { ($0.queuedBytes, $0.direct) }
        return queued + (writer?.unflushedCount ?? 0)
    }

    var queuedCount: Int { state.withLock { $0.queue.count } }
}
