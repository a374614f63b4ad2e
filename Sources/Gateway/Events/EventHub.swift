import Foundation
import HTTPServer
import JSONValue
import Synchronization

/// The gateway's event fan-out: events are numbered, kept in a bounded replay buffer, and queued
/// for every matching subscriber. Publishing never waits for a subscriber.
public final class EventHub: Sendable {
    public enum SubscribeError: Error, Sendable { case tooManySubscribers(limit: Int) }

    /// How a subscription starts, when it asked to resume from an id.
    public enum Resume: Sendable, Equatable {
        /// Fresh subscription, or everything after the id is still held.
        case complete
        /// Events after the id were dropped (too old, or from an earlier process): the replay
        /// starts at `firstHeld`, or is empty when nothing is held.
        case gap(requested: EventID?, firstHeld: EventID?)
    }

    public let configuration: EventHubConfiguration
    public let epoch: UInt64

    private struct State {
        var nextSequence: UInt64 = 1
        var ring: [GatewayEvent] = []
        /// Index of the oldest event in `ring` (a ring of `replayCapacity` slots).
        var ringStart = 0
        var subscribers = SubscriberList()
        var published = 0
        var overflows = 0
        var refused = 0
        /// Subscribers dropped to keep the total backlog within `maxQueuedBytes`.
        var budgetDrops = 0
    }

    private let state = Mutex(State())
    /// Writers per hand-off to the event loops while fanning out one event.
    static let handOffBatch = 64
    private let now: @Sendable () -> Date
    /// Every subscriber's backlog in bytes, together (queued here and unflushed on its connection).
    let queuedBytes = ByteTally()

    public init(
        configuration: EventHubConfiguration = EventHubConfiguration(),
        epoch: UInt64 = UInt64(Date().timeIntervalSince1970 * 1000),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.configuration = configuration
        self.epoch = epoch
        self.now = now
    }

    // MARK: publishing

    /// Numbers the event, keeps it for replay and queues it for every matching subscriber.
    /// `runStreamsOnly`: the event goes only to subscribers that asked for its run by id (per-run
    /// streams, `?run=`) and is not held for replay: the end of a run found in InvokeAI's history
    /// after a restart, which the previous process already announced to everyone.
    @discardableResult
    public func publish(
        _ type: String, run: String? = nil, workflow: String? = nil, owner: String? = nil, data: JSONValue,
        preview: JSONValue? = nil, runStreamsOnly: Bool = false
    ) -> GatewayEvent {
        let time = now()
        defer { if queuedBytes.count > configuration.maxQueuedBytes { enforceBudget() } }
        return state.withLock { s in
            // Numbering and queueing under one lock: every subscriber sees ids in order.
            let event = GatewayEvent(
                id: EventID(epoch: epoch, sequence: s.nextSequence), type: type, runID: run,
                workflow: workflow, owner: owner, time: time, data: data, preview: preview)
            s.nextSequence += 1
            s.published += 1
            if !runStreamsOnly { Self.append(event, to: &s, capacity: configuration.replayCapacity) }
            // Writers are handed to their event loops in small batches: fewer hand-offs than one
            // per subscriber, while the loops already write the first batches as the rest are
            // prepared. Still under the lock: the next event's bytes cannot overtake these.
            var direct: [HTTPResponseWriter] = [], directWithPreview: [HTTPResponseWriter] = []
            direct.reserveCapacity(Self.handOffBatch)
            s.subscribers.forEach { subscriber in
                guard subscriber.filter.matches(event), !runStreamsOnly || !subscriber.filter.runs.isEmpty else {
                    return
                }
                switch subscriber.enqueue(event) {
                case .direct(let writer, let previews):
                    if previews { directWithPreview.append(writer) } else { direct.append(writer) }
                    if direct.count == Self.handOffBatch {
                        HTTPResponseWriter.send(event.encoded, to: direct)
                        direct.removeAll(keepingCapacity: true)
                    }
                case .overflowed: s.overflows += 1
                case .queued, .ignored: break
                }
            }
            HTTPResponseWriter.send(event.encoded, to: direct)
            HTTPResponseWriter.send(event.encodedWithPreview ?? event.encoded, to: directWithPreview)
            return event
        }
    }

    private static func append(_ event: GatewayEvent, to s: inout State, capacity: Int) {
        if s.ring.count < capacity {
            s.ring.append(event)
        } else {
            s.ring[s.ringStart] = event
            s.ringStart = (s.ringStart + 1) % capacity
        }
    }

    // MARK: subscribing

    /// Registers a subscriber. With `after`, the events held after that id are queued first
    /// (no loss, no duplicate: replay and registration happen under one lock).
    /// `replayHeld`: with no `after`, start with every held event that matches (a per-run stream
    /// opened just after its submission must not miss the run's first events).
    public func subscribe(_ filter: EventFilter, after: EventID? = nil, replayHeld: Bool = false) throws(SubscribeError)
        -> (EventSubscription, Resume)
    {
        let cutoff = now().addingTimeInterval(-configuration.replayMaxAge)
        let result: Result<(EventSubscription, Resume), SubscribeError> = state.withLock { s in
            guard s.subscribers.count < configuration.maxSubscribers else {
                s.refused += 1
                return .failure(.tooManySubscribers(limit: configuration.maxSubscribers))
            }
            var replay: [GatewayEvent] = []
            var resume = Resume.complete
            if let after {
                let held = Self.held(s, since: cutoff)
                let firstHeld = held.first?.id
                // Continuous when the next id after `after` is still held (or nothing was missed).
                let nextWanted = EventID(epoch: after.epoch, sequence: after.sequence + 1)
                let continuous =
                    after.epoch == epoch
                    && (after.sequence + 1 >= s.nextSequence || (firstHeld.map { $0 <= nextWanted } ?? false))
                if !continuous { resume = .gap(requested: after, firstHeld: firstHeld) }
                replay = held.filter { $0.id > after && filter.matches($0) }
                if after.epoch != epoch { replay = held.filter { filter.matches($0) } }
            } else if replayHeld {
                replay = Self.held(s, since: cutoff).filter { filter.matches($0) }
            }
            let subscription = EventSubscription(
                filter: filter, limit: configuration.subscriberQueueLimit, replay: replay, tally: queuedBytes)
            s.subscribers.insert(subscription)
            return .success((subscription, resume))
        }
        return try result.get()
    }

    public func unsubscribe(_ subscription: EventSubscription) {
        state.withLock { $0.subscribers.remove(subscription) }
        subscription.close()
        subscription.discardQueue()
    }

    /// Over the byte budget: drops the subscribers with the largest backlog (the slowest
    /// readers) until the rest fit in it again; those that keep up are not touched.
    private func enforceBudget() {
        let budget = configuration.maxQueuedBytes
        let victims = state.withLock { s -> [EventSubscription] in
            let total = queuedBytes.count
            guard total > budget else { return [] }
            let chosen = Self.slowest(s.subscribers.all.map { ($0, $0.backlogBytes) }, total: total, budget: budget)
            for subscription in chosen { s.subscribers.remove(subscription) }
            s.budgetDrops += chosen.count
            return chosen
        }
        for subscription in victims { subscription.drop() }
    }

    /// The fewest subscribers, largest backlog first, whose backlogs bring `total` within `budget`.
    static func slowest<S>(_ backlogs: [(S, Int)], total: Int, budget: Int) -> [S] {
        var total = total
        var chosen: [S] = []
        for (subscriber, backlog) in backlogs.sorted(by: { $0.1 > $1.1 }) {
            guard total > budget, backlog > 0 else { break }
            chosen.append(subscriber)
            total -= backlog
        }
        return chosen
    }

    /// Events still held (within the age limit), oldest first, optionally only those matching.
    public func held(matching filter: EventFilter? = nil) -> [GatewayEvent] {
        let cutoff = now().addingTimeInterval(-configuration.replayMaxAge)
        return state.withLock { s in
            Self.held(s, since: cutoff).filter { filter?.matches($0) ?? true }
        }
    }

    /// The id of the newest event published (sequence 0 before the first).
    public var lastID: EventID { EventID(epoch: epoch, sequence: state.withLock { $0.nextSequence } - 1) }

    private static func held(_ s: State, since cutoff: Date) -> [GatewayEvent] {
        let ordered = Array(s.ring[s.ringStart...] + s.ring[..<s.ringStart])
        guard let firstFresh = ordered.firstIndex(where: { $0.time >= cutoff }) else { return [] }
        return Array(ordered[firstFresh...])
    }

    // MARK: upkeep

    /// Wakes idle subscribers for their heartbeat; called every `heartbeatInterval` by the owner.
    public func heartbeat() {
        let subscribers = state.withLock { $0.subscribers.all }
        for subscriber in subscribers { subscriber.heartbeat() }
    }

    /// Closes every subscription (shutdown).
    public func closeAll() {
        let subscribers = state.withLock { s in
            defer { s.subscribers.removeAll() }
            return s.subscribers.all
        }
        for subscriber in subscribers { subscriber.close() }
    }

    public struct Metrics: Sendable {
        public var subscribers: Int
        public var published: Int
        public var overflows: Int
        public var refused: Int
        public var held: Int
        /// Subscribers dropped to keep every backlog together within `maxQueuedBytes`.
        public var budgetDrops: Int
        /// Bytes queued for all subscribers now.
        public var queuedBytes: Int
    }

    /// For `/metrics`.
    var prometheusText: String {
        let m = metrics
        return """
            # HELP gateway_event_subscribers Event-stream subscribers now.
            # TYPE gateway_event_subscribers gauge
            gateway_event_subscribers \(m.subscribers)
            # HELP gateway_event_queued_bytes Bytes queued for all event-stream subscribers together.
            # TYPE gateway_event_queued_bytes gauge
            gateway_event_queued_bytes \(m.queuedBytes)
            # HELP gateway_event_subscribers_dropped_total Event-stream subscribers disconnected for reading too slowly: past their own queue (overflow), or the largest backlogs when all together passed --max-event-queue-bytes (budget).
            # TYPE gateway_event_subscribers_dropped_total counter
            gateway_event_subscribers_dropped_total{reason="overflow"} \(m.overflows)
            gateway_event_subscribers_dropped_total{reason="budget"} \(m.budgetDrops)

            """
    }

    public var metrics: Metrics {
        state.withLock {
            Metrics(
                subscribers: $0.subscribers.count, published: $0.published, overflows: $0.overflows,
                refused: $0.refused, held: $0.ring.count, budgetDrops: $0.budgetDrops,
                queuedBytes: queuedBytes.count)
        }
    }
}
