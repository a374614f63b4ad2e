import Foundation
@testable import Gateway
import InvokeAI
import JSONValue
import Testing

/// How the tracker turns InvokeAI's events into a finished run. Its client points at a port
/// where nothing listens, so anything read back over REST comes back empty: outputs present
/// means they were mapped from the events.
@Suite struct RunTrackerTests {
    let tracker = RunTracker(client: InvokeAIClient(configuration: InvokeAIClientConfiguration(
                                 baseURL: URL(string: "http://127.0.0.1:9")!, requestTimeout: 2, retry: RetryPolicy(maxAttempts: 1))),
                             hub: EventHub(), destination: "gw-test", mapOutputs: { _, items in QueueItemOutputs.map(items) })

    func item(_ id: Int) -> QueueItemRef {
        QueueItemRef(queueId: "default", itemId: id, batchId: "batch-1", sessionId: "s\(id)",
                     origin: RunTracker.origin(for: "blur"), destination: "gw-test")
    }

    func status(_ id: Int, _ status: QueueItemStatus) -> InvokeAIEvent {
        .queueItemStatusChanged(QueueItemStatusChange(item: item(id), status: status, completedAt: "2026-12-01 10:00:00.000"))
    }

    func completed(_ id: Int, node: String, prepared: String, image: String) -> InvokeAIEvent {
        .invocationComplete(InvocationInfo(item: item(id), sourceNodeId: node, invocationId: prepared, invocationType: "save_image"),
                            result: ["type": "image_output", "image": ["image_name": .string(image)], "width": 8, "height": 6])
    }

    @Test func aRunWatchedFromItsStartHasItsOutputsMappedFromItsEvents() async throws {
        tracker.register(Run(id: "batch-1", workflow: "blur", itemIDs: [7, 8]))
        for event in [status(7, .inProgress), completed(7, node: "save", prepared: "p1", image: "a.png"), status(7, .completed),
                      status(8, .inProgress), completed(8, node: "save", prepared: "p2", image: "b.png"),
                      completed(8, node: "noise", prepared: "p3", image: "c.png"), status(8, .completed)] {
            tracker.handle(event)
        }
        let run = try #require(await tracker.wait("batch-1", timeout: 10))
        #expect(run.status == .completed)
        let outputs = run.outputs.arrayValue ?? []
        #expect(outputs.map { $0["node"]?.stringValue } == ["noise", "save"])
        #expect(outputs.last?["images"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["a.png", "b.png"])
        #expect(outputs.last?["images"]?[0]?["width"] == 8)
        #expect(outputs.last?["images"]?[0]?["height"] == 6)
        #expect(tracker.outputSources.events == 1)
    }

    @Test func aRunWhoseEventStreamReconnectedMidRunIsReadBackInstead() async throws {
        tracker.register(Run(id: "batch-1", workflow: "blur", itemIDs: [7]))
        tracker.handle(status(7, .inProgress))
        tracker.eventStreamChanged()  // lost and regained: events in between may be missing
        tracker.handle(completed(7, node: "save", prepared: "p1", image: "a.png"))
        tracker.handle(status(7, .completed))
        let run = try #require(await tracker.wait("batch-1", timeout: 10))
        #expect(run.status == .completed)
        #expect(run.outputs == [])  // the read-back failed (nothing listens): not guessed from events
        #expect(tracker.outputSources.readBack == 1)
    }

    @Test func aRunNotWatchedFromItsStartIsReadBackInstead() async throws {
        tracker.register(Run(id: "batch-1", workflow: "blur", itemIDs: [7]))
        tracker.handle(completed(7, node: "save", prepared: "p1", image: "a.png"))
        tracker.handle(status(7, .completed))
        let run = try #require(await tracker.wait("batch-1", timeout: 10))
        #expect(run.outputs == [])
    }
}
