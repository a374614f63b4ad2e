import Foundation
import JSONValue
import Synchronization
import Testing

@testable import Gateway

@Suite("Event hub")
struct EventHubTests {
    private func ids(_ delivery: EventSubscription.Delivery) -> [UInt64] {
        if case .events(let events) = delivery { return events.map(\.id.sequence) }
        return []
    }

    @Test func eventsAreNumberedInOrderAndFiltered() async throws {
        let hub = EventHub(epoch: 7)
        let (all, _) = try hub.subscribe(EventFilter())
        let (runA, _) = try hub.subscribe(EventFilter(runs: ["a"]))
        let (done, _) = try hub.subscribe(EventFilter(workflows: ["w2"], types: ["run.completed"]))
        hub.publish("run.queued", run: "a", workflow: "w1", data: ["n": 1])
        hub.publish("run.queued", run: "b", workflow: "w2", data: ["n": 2])
        hub.publish("upstream.connected", data: [:])
        hub.publish("run.completed", run: "b", workflow: "w2", data: ["n": 3])
        #expect(ids(await all.next()) == [1, 2, 3, 4])
        #expect(ids(await runA.next()) == [1])
        #expect(ids(await done.next()) == [4])
        let event = hub.held().last!
        #expect(event.id.description == "7-4")
        #expect(String(decoding: event.encoded, as: UTF8.self) == "event: run.completed\nid: 7-4\ndata: {\"n\":3}\n\n")
    }

    @Test func resumeReplaysExactlyWhatWasMissedAcrossTheBufferEdge() throws {
        let hub = EventHub(configuration: EventHubConfiguration(replayCapacity: 5), epoch: 1)
        for n in 1...8 { hub.publish("node.progress", run: "r", data: ["n": .int(n)]) }
        // Held now: 4...8. After 4: continuous, 5...8.
        let (continuous, resume) = try hub.subscribe(EventFilter(), after: EventID(epoch: 1, sequence: 4))
        #expect(resume == .complete)
        #expect(continuous.queuedCount == 4)
        // After 3: 4 is the next wanted and still held: continuous too.
        #expect(try hub.subscribe(EventFilter(), after: EventID(epoch: 1, sequence: 3)).1 == .complete)
        // After 2: 3 is gone: a gap, and the replay starts at the oldest held.
        let (gapped, gap) = try hub.subscribe(EventFilter(), after: EventID(epoch: 1, sequence: 2))
        #expect(gap == .gap(requested: EventID(epoch: 1, sequence: 2), firstHeld: EventID(epoch: 1, sequence: 4)))
        #expect(gapped.queuedCount == 5)
        // An id from an earlier process: a gap, and everything held is replayed.
        let (earlier, fromBefore) = try hub.subscribe(EventFilter(), after: EventID(epoch: 0, sequence: 99))
        #expect(
            fromBefore == .gap(requested: EventID(epoch: 0, sequence: 99), firstHeld: EventID(epoch: 1, sequence: 4)))
        #expect(earlier.queuedCount == 5)
        // Up to date: nothing to replay.
        let (current, upToDate) = try hub.subscribe(EventFilter(), after: EventID(epoch: 1, sequence: 8))
        #expect(upToDate == .complete)
        #expect(current.queuedCount == 0)
    }

    @Test func aRunStreamOpenedLateStartsWithWhatIsHeldOfThatRun() async throws {
        let hub = EventHub(epoch: 3)
        hub.publish("run.queued", run: "r", data: [:])
        hub.publish("run.queued", run: "other", data: [:])
        hub.publish("run.started", run: "r", data: [:])
        let (late, resume) = try hub.subscribe(EventFilter(runs: ["r"]), after: nil, replayHeld: true)
        #expect(resume == .complete)
        #expect(ids(await late.next()) == [1, 3])
        // Without replayHeld a fresh subscription sees only what comes next.
        let (fresh, _) = try hub.subscribe(EventFilter(runs: ["r"]))
        #expect(fresh.queuedCount == 0)
    }

    @Test func oldEventsAgeOut() throws {
        let clock = Mutex(Date(timeIntervalSince1970: 1000))
        let hub = EventHub(
            configuration: EventHubConfiguration(replayMaxAge: 60), epoch: 1, now: { clock.withLock { $0 } })
        hub.publish("run.queued", run: "r", data: [:])
        clock.withLock { $0 = $0.addingTimeInterval(61) }
        hub.publish("run.started", run: "r", data: [:])
        #expect(hub.held().map(\.type) == ["run.started"])
        let (_, resume) = try hub.subscribe(EventFilter(), after: EventID(epoch: 1, sequence: 0))
        #expect(resume == .gap(requested: EventID(epoch: 1, sequence: 0), firstHeld: EventID(epoch: 1, sequence: 2)))
    }

    @Test func aSlowSubscriberOverflowsAloneAndIsToldHowMuchItLost() async throws {
        let hub = EventHub(configuration: EventHubConfiguration(subscriberQueueLimit: 3), epoch: 1)
        let (slow, _) = try hub.subscribe(EventFilter())
        let (fast, _) = try hub.subscribe(EventFilter())
        var fastSeen: [UInt64] = []
        for n in 1...5 {
            hub.publish("node.progress", data: ["n": .int(n)])
            fastSeen += ids(await fast.next())
        }
        #expect(fastSeen == [1, 2, 3, 4, 5])
        #expect(ids(await slow.next()) == [1, 2, 3])
        guard case .overflow(let dropped) = await slow.next() else { Issue.record("no overflow"); return }
        #expect(dropped == 2)
        guard case .closed = await slow.next() else { Issue.record("not closed after overflow"); return }
        #expect(hub.metrics.overflows == 1)
    }

    @Test func theSubscriberLimitIsEnforced() throws {
        let hub = EventHub(configuration: EventHubConfiguration(maxSubscribers: 2))
        let (first, _) = try hub.subscribe(EventFilter())
        _ = try hub.subscribe(EventFilter())
        #expect(throws: EventHub.SubscribeError.self) { try hub.subscribe(EventFilter()) }
        hub.unsubscribe(first)
        _ = try hub.subscribe(EventFilter())
        #expect(hub.metrics.refused == 1)
    }

    @Test func idleSubscribersGetHeartbeatsAndCloseEndsThem() async throws {
        let hub = EventHub()
        let (subscription, _) = try hub.subscribe(EventFilter())
        hub.heartbeat()
        guard case .heartbeat = await subscription.next() else { Issue.record("no heartbeat"); return }
        hub.closeAll()
        guard case .closed = await subscription.next() else { Issue.record("not closed"); return }
    }

    @Test func previewsGoOnlyWhereAsked() throws {
        let hub = EventHub(epoch: 1)
        let event = hub.publish(
            "node.progress", run: "r", data: ["percentage": 0.5],
            preview: ["width": 8, "height": 8, "data_url": "data:image/png;base64,AAAA"])
        #expect(!String(decoding: event.encoded, as: UTF8.self).contains("data_url"))
        #expect(String(decoding: event.encodedWithPreview ?? [], as: UTF8.self).contains("\"preview\":{\"data_url\""))
    }
}
