import Foundation
import InvokeAI
import JSONValue
import Synchronization
import TestSupport
import Testing

@testable import Gateway

/// How the tracker turns InvokeAI's events and records into runs, against a scripted queue:
/// every path that ends or changes an item, the confirmation of an end against InvokeAI's
/// record, restart recovery, output ownership and the bounded window.
@Suite struct RunTrackerTests {
    let upstream = ScriptedRunUpstream()
    let hub = EventHub()
    let deleted = DeletedImages()
    let tracker: RunTracker

    init() {
        let deleted = self.deleted
        tracker = RunTracker(
            upstream: upstream, hub: hub, destination: "gw-test",
            configuration: RunTrackerConfiguration(readBackRetryDelays: [.milliseconds(20)]),
            cleaner: ImageCleaner(retryDelays: []) { name in deleted.add(name) },
            mapOutputs: { _, items in QueueItemOutputs.map(items) })
    }

    func ref(_ id: Int, batch: String = "batch-1") -> QueueItemRef {
        QueueItemRef(
            queueId: "default", itemId: id, batchId: batch, sessionId: "s\(id)",
            origin: RunTracker.origin(for: "blur"), destination: "gw-test")
    }

    func status(_ id: Int, _ status: QueueItemStatus, batch: String = "batch-1") -> InvokeAIEvent {
        .queueItemStatusChanged(
            QueueItemStatusChange(item: ref(id, batch: batch), status: status, completedAt: "2026-12-01 10:00:00.000"))
    }

    func completed(_ id: Int, node: String, prepared: String, image: String) -> InvokeAIEvent {
        .invocationComplete(
            InvocationInfo(item: ref(id), sourceNodeId: node, invocationId: prepared, invocationType: "save_image"),
            result: ["type": "image_output", "image": ["image_name": .string(image)], "width": 8, "height": 6])
    }

    func terminalEvents(of run: String) -> [GatewayEvent] { hub.held().filter { $0.runID == run && $0.isTerminal } }

    @Test func aRunWatchedFromItsStartHasItsOutputsMappedFromItsEvents() async throws {
        try await whileRunning(tracker) {
            upstream.addImage("a.png", session: "s7")
            upstream.addImage("b.png", session: "s8")
            upstream.addImage("c.png", session: "s8")
            tracker.register(Run(id: "batch-1", workflow: "blur", itemIDs: [7, 8]))
            for event in [
                status(7, .inProgress), completed(7, node: "save", prepared: "p1", image: "a.png"),
                status(7, .completed),
                status(8, .inProgress), completed(8, node: "save", prepared: "p2", image: "b.png"),
                completed(8, node: "noise", prepared: "p3", image: "c.png"), status(8, .completed),
            ] {
                tracker.handle(event)
            }
            let run = try #require(await tracker.wait("batch-1", timeout: 10))
            #expect(run.status == .completed)
            let outputs = run.outputs.arrayValue ?? []
            #expect(outputs.map { $0["node"]?.stringValue } == ["noise", "save"])
            #expect(outputs.last?["images"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["a.png", "b.png"])
            #expect(outputs.last?["images"]?[0]?["width"] == 8)
            #expect(outputs.last?["images"]?[0]?["created_by_run"] == true)
            #expect(tracker.outputSources.events == 1)
            #expect(terminalEvents(of: "batch-1").count == 1)
        }
    }

    @Test func aPendingRunCanceledInBulkEndsCanceledOnceAndItsWaiterAndTimerEnd() async throws {
        try await whileRunning(tracker) {
            upstream.add(ScriptedRunUpstream.item(7, batch: "batch-1", status: .pending))
            tracker.register(Run(id: "batch-1", workflow: "blur", itemIDs: [7]))
            let waiting = Task { await tracker.wait("batch-1", timeout: 300) }
            try await eventually { tracker.waiterCount == 1 }
            // InvokeAI sends no per-item status change for pending items cancelled in bulk.
            upstream.setStatus(7, .canceled)
            tracker.handle(.queueItemsCanceled(queueId: "default", itemIds: [7]))
            tracker.handle(.queueItemsCanceled(queueId: "default", itemIds: [7])) // repeated: still one end
            let run = try #require(await waiting.value)
            #expect(run.status == .canceled)
            #expect(tracker.waiterCount == 0)
            #expect(terminalEvents(of: "batch-1").map(\.type) == ["run.canceled"])
        }
    }

    @Test func cancellingReadsTheBatchBackSoAMissedBulkEventStillEndsTheRun() async throws {
        try await whileRunning(tracker) {
            upstream.add(ScriptedRunUpstream.item(7, batch: "batch-1", status: .pending))
            tracker.register(Run(id: "batch-1", workflow: "blur", itemIDs: [7]))
            try await tracker.cancel("batch-1")
            let run = try #require(await tracker.wait("batch-1", timeout: 10))
            #expect(run.status == .canceled)
            #expect(upstream.queue.withLock { $0.canceled } == ["batch-1"])
        }
    }

    @Test func anEndWhoseRecordCannotBeReadIsNotReportedUntilItIsRead() async throws {
        try await whileRunning(tracker) {
            upstream.add(ScriptedRunUpstream.item(7, batch: "batch-1", status: .completed, image: "a.png"))
            upstream.addImage("a.png", session: "s7")
            upstream.failReads = true
            tracker.register(Run(id: "batch-1", workflow: "blur", itemIDs: [7]))
            tracker.handle(status(7, .completed)) // not watched from its start: must be read back
            try await eventually { tracker.run("batch-1")?.readBackError != nil }
            #expect(tracker.run("batch-1")?.status.isTerminal == false)
            #expect(terminalEvents(of: "batch-1").isEmpty)
            upstream.failReads = false
            let run = try #require(await tracker.wait("batch-1", timeout: 10))
            #expect(run.status == .completed)
            #expect(run.readBackError == nil)
            #expect(run.outputImageNames == ["a.png"])
            #expect(terminalEvents(of: "batch-1").count == 1)
        }
    }

    @Test func aFailedRunKeepsInvokeAIsErrorAndTimes() async throws {
        try await whileRunning(tracker) {
            upstream.add(ScriptedRunUpstream.item(7, batch: "batch-1", status: .failed, error: "boom"))
            tracker.register(Run(id: "batch-1", workflow: "blur", itemIDs: [7]))
            tracker.handle(status(7, .failed))
            let run = try #require(await tracker.wait("batch-1", timeout: 10))
            #expect(run.status == .failed)
            #expect(run.error?["message"] == "boom")
            #expect(run.completedAt == RunTracker.date("2026-12-01 10:00:02.500"))
        }
    }

    @Test func waitingParentsAndTheirChildItemsStayUnderTheRun() async throws {
        try await whileRunning(tracker) {
            tracker.register(Run(id: "batch-1", workflow: "blur", itemIDs: [7]))
            tracker.handle(status(7, .inProgress))
            tracker.handle(status(7, .waiting))
            tracker.handle(status(9, .pending)) // a child item: same batch, same tags
            #expect(tracker.run("batch-1")?.itemIDs == [7, 9])
            #expect(tracker.run("batch-1")?.status == .running)
            tracker.handle(status(9, .inProgress))
            tracker.handle(status(9, .completed))
            #expect(tracker.run("batch-1")?.status == .running) // the parent still waits
            upstream.add(ScriptedRunUpstream.item(7, batch: "batch-1", status: .completed))
            upstream.add(ScriptedRunUpstream.item(9, batch: "batch-1", status: .completed, parent: 7))
            tracker.handle(status(7, .completed))
            let run = try #require(await tracker.wait("batch-1", timeout: 10))
            #expect(run.status == .completed)
            #expect(run.itemParents[9] == 7)
            #expect(run.json["items"]?.arrayValue?.count == 2)
        }
    }

    @Test func aClearedQueueEndsTheRunsWhoseItemsItRemoved() async throws {
        try await whileRunning(tracker) {
            tracker.register(Run(id: "batch-1", workflow: "blur", itemIDs: [7])) // InvokeAI holds no item 7 any more
            tracker.handle(.queueCleared(queueId: "default"))
            try await eventually { tracker.run("batch-1")?.status == .canceled }
            #expect(terminalEvents(of: "batch-1").map(\.type) == ["run.canceled"])
        }
    }

    @Test func aRestartReadsEndedRunsBackWithStatusTimesErrorsOutputsAndTheirTerminalEvent() async throws {
        upstream.add(ScriptedRunUpstream.item(1, batch: "done", status: .completed, image: "done.png"))
        upstream.add(ScriptedRunUpstream.item(2, batch: "broken", status: .failed, error: "boom"))
        upstream.add(ScriptedRunUpstream.item(3, batch: "running", status: .inProgress))
        upstream.add(ScriptedRunUpstream.item(4, batch: "someone-else", status: .completed, destination: "gui"))
        upstream.addImage("done.png", session: "s1", board: "board-1")
        try await tracker.recover()
        let done = try #require(tracker.run("done"))
        #expect(done.status == .completed)
        #expect(done.completedAt == RunTracker.date("2026-12-01 10:00:02.500"))
        #expect(done.outputImageNames == ["done.png"])
        #expect(done.outputs[0]?["images"]?[0]?["board_id"] == "board-1")
        #expect(done.terminalEventData?["outputs"] == done.outputs)
        let broken = try #require(tracker.run("broken"))
        #expect(broken.status == .failed && broken.error?["message"] == "boom")
        #expect(tracker.run("running")?.status == .running)
        #expect(tracker.run("someone-else") == nil)
        // Not announced on /v1/events again: the previous process did that.
        #expect(hub.held().filter(\.isTerminal).isEmpty)
    }

    @Test func outputsAnotherSessionMadeAreNeverDeletedByThisRunsCleanup() async throws {
        try await whileRunning(tracker) {
            // A cached result: the image's record names the session of the run that made it.
            upstream.add(ScriptedRunUpstream.item(7, batch: "batch-1", status: .completed, image: "shared.png"))
            upstream.addImage("shared.png", session: "s-other-run")
            tracker.register(Run(id: "batch-1", workflow: "blur", itemIDs: [7]))
            tracker.handle(status(7, .completed))
            let run = try #require(await tracker.wait("batch-1", timeout: 10))
            #expect(run.outputImageNames == ["shared.png"])
            #expect(run.ownedOutputImageNames.isEmpty)
            _ = await tracker.deleteOutputs(of: "batch-1")
            #expect(deleted.names.isEmpty)
        }
    }

    @Test func runsOlderThanTheWindowAreReadFromInvokeAIWhenAskedFor() async throws {
        let small = RunTracker(
            upstream: upstream, hub: hub, destination: "gw-test", configuration: RunTrackerConfiguration(maxRuns: 2),
            cleaner: ImageCleaner(retryDelays: []) { _ in }, mapOutputs: { _, items in QueueItemOutputs.map(items) })
        try await whileRunning(small) {
            for id in 1...5 {
                upstream.add(ScriptedRunUpstream.item(id, batch: "batch-\(id)", status: .completed))
                small.register(Run(id: "batch-\(id)", workflow: "blur", itemIDs: [id]))
                small.handle(
                    .queueItemStatusChanged(
                        QueueItemStatusChange(item: ref(id, batch: "batch-\(id)"), status: .completed)))
                _ = await small.wait("batch-\(id)", timeout: 10)
            }
            try await eventually { small.count == 2 } // (eviction follows the end's announcement)
            #expect(small.run("batch-1") == nil)
            let old = try #require(try await small.lookup("batch-1"))
            #expect(old.status == .completed && old.workflow == "blur")
            #expect(try await small.lookup("no-such-batch") == nil)
        }
    }

    @Test func aRunWhoseEventsCameBeforeItsSubmissionWasRecordedKeepsWhatTheyTaught() async throws {
        try await whileRunning(tracker) {
            upstream.add(ScriptedRunUpstream.item(7, batch: "batch-1", status: .completed, image: "a.png"))
            upstream.addImage("a.png", session: "s7")
            upstream.addImage("input.png", session: nil)
            // The fast run's events arrive first: adopted from them, and ended.
            tracker.handle(status(7, .completed))
            try await eventually { tracker.run("batch-1")?.status == .completed }
            var submitted = Run(id: "batch-1", workflow: "blur", itemIDs: [7])
            submitted.uploadedImages = ["input.png"]
            tracker.register(submitted)
            let run = try #require(tracker.run("batch-1"))
            #expect(run.status == .completed && run.outputImageNames == ["a.png"])
            #expect(run.terminalEventData != nil)
            try await eventually { deleted.names == ["input.png"] }
            #expect(hub.held().filter { $0.type == "run.queued" }.isEmpty)
        }
    }

    /// InvokeAI's retry adds a new item to the failed item's batch: the run runs again and ends
    /// again, each end announced once.
    @Test func aRetriedItemReopensTheRunWhichEndsAgain() async throws {
        try await whileRunning(tracker) {
            upstream.add(ScriptedRunUpstream.item(7, batch: "batch-1", status: .failed, error: "boom"))
            tracker.register(Run(id: "batch-1", workflow: "blur", itemIDs: [7]))
            tracker.handle(status(7, .failed))
            #expect(await tracker.wait("batch-1", timeout: 10)?.status == .failed)
            tracker.handle(status(8, .inProgress)) // the retry
            #expect(tracker.run("batch-1")?.status == .running)
            #expect(tracker.run("batch-1")?.error == nil)
            upstream.add(ScriptedRunUpstream.item(8, batch: "batch-1", status: .completed, retriedFrom: 7))
            tracker.handle(status(8, .completed))
            try await eventually { tracker.run("batch-1")?.status.isTerminal == true }
            // The retry supersedes the failed item: the run ends as its last attempt did.
            let run = try #require(tracker.run("batch-1"))
            #expect(run.status == .completed && run.error == nil)
            #expect(run.itemIDs == [7, 8])
            #expect(terminalEvents(of: "batch-1").map(\.type) == ["run.failed", "run.completed"])
        }
    }

    @Test func aWaitEndsAtItsTimeoutAndItsTimerGoesWhenTheRunEndsFirst() async throws {
        try await whileRunning(tracker) {
            tracker.register(Run(id: "batch-1", workflow: "blur", itemIDs: [7]))
            let start = ContinuousClock.now
            #expect(await tracker.wait("batch-1", timeout: 0.2)?.status == .queued)
            #expect(ContinuousClock.now - start >= .milliseconds(200))
            #expect(tracker.waiterCount == 0 && tracker.jobs.scheduledCount == 0)
            // A long wait whose run ends first: its timer leaves the tracker's queue with it.
            upstream.add(ScriptedRunUpstream.item(7, batch: "batch-1", status: .completed))
            let waiting = Task { await tracker.wait("batch-1", timeout: 300) }
            try await eventually { tracker.waiterCount == 1 && tracker.jobs.scheduledCount == 1 }
            tracker.handle(status(7, .completed))
            #expect(await waiting.value?.status == .completed)
            #expect(tracker.waiterCount == 0 && tracker.jobs.scheduledCount == 0)
        }
    }

    @Test func aWaitWhoseRequestIsCancelledEndsAtOnce() async throws {
        try await whileRunning(tracker) {
            tracker.register(Run(id: "batch-1", workflow: "blur", itemIDs: [7]))
            let waiting = Task { await tracker.wait("batch-1", timeout: 300) }
            try await eventually { tracker.waiterCount == 1 }
            waiting.cancel()
            #expect(await waiting.value?.status == .queued)
            #expect(tracker.waiterCount == 0 && tracker.jobs.scheduledCount == 0)
        }
    }

    @Test func aTrackerThatStopsAnswersEveryWaitAndHangsNoNewOne() async throws {
        tracker.register(Run(id: "batch-1", workflow: "blur", itemIDs: [7]))
        let loop = Task { await tracker.run() }
        let waiting = Task { await tracker.wait("batch-1", timeout: 300) }
        try await eventually { tracker.waiterCount == 1 }
        loop.cancel()
        await loop.value
        #expect(await waiting.value?.status == .queued)
        #expect(await tracker.wait("batch-1", timeout: 300)?.status == .queued)
        #expect(tracker.waiterCount == 0)
    }

    /// A page's JSON is each run's JSON (cleanup included) in the page's frame, the same bytes
    /// with the runs' JSON kept from an earlier page or written afresh, and it follows changes.
    @Test func aPagesJSONIsItsRunsJSONAndFollowsTheirChanges() async throws {
        try await whileRunning(tracker) {
            for id in 1...3 {
                var run = Run(id: "batch-\(id)", workflow: "blur", itemIDs: [id])
                run.status = .completed
                run.startedAt = Date(timeIntervalSince1970: 1_800_000_000)
                run.completedAt = Date(timeIntervalSince1970: 1_800_000_007.25)
                run.outputs = [["node": "save", "images": [["name": .string("\(id).png"), "created_by_run": true]]]]
                tracker.register(run)
            }
            func expected(offset: Int = 0) -> [UInt8] {
                let page = tracker.runs(offset: offset, limit: 2).page
                return JSONValue.object([
                    "limit": 2, "offset": .int(offset), "runs": .array(page.map(\.json)), "total": 3,
                ]).compactJSONBytes
            }
            #expect(tracker.runsPageJSON(limit: 2) == expected()) // written
            #expect(tracker.runsPageJSON(limit: 2) == expected()) // kept
            #expect(tracker.runsPageJSON(offset: 1, limit: 2) == expected(offset: 1))
            // The run changes (its models are recorded): its JSON is written again.
            var again = Run(id: "batch-3", workflow: "blur", itemIDs: [3])
            again.models = ["model": "sdxl"]
            tracker.register(again)
            #expect(tracker.runsPageJSON(limit: 2) == expected())
            #expect(
                String(decoding: tracker.runsPageJSON(limit: 2), as: UTF8.self).contains(#""models":{"model":"sdxl"}"#))
            // The cleaner's news is read at every page.
            _ = await tracker.deleteOutputs(of: "batch-3")
            #expect(tracker.run("batch-3")?.cleanupState?["deleted"] == ["3.png"])
            #expect(tracker.runsPageJSON(limit: 2) == expected())
        }
    }

    /// Upkeep acts on the runs due, each once: outputs past their time-to-live, runs past the
    /// window's age.
    @Test func upkeepTakesTheRunsDueAndEachOnce() async throws {
        let deleted = DeletedImages()
        let upkept = RunTracker(
            upstream: upstream, hub: hub, destination: "gw-test", configuration: RunTrackerConfiguration(maxAge: 3600),
            cleaner: ImageCleaner(retryDelays: []) { deleted.add($0) }, outputTTL: 60, mapOutputs: { _, _ in [] })
        try await whileRunning(upkept) {
            let now = Date()
            for (id, ago) in [("old", 7200.0), ("mid", 120.0), ("new", 10.0)] {
                var run = Run(id: id, workflow: "blur", itemIDs: [id.count])
                run.status = .completed
                run.completedAt = now.addingTimeInterval(-ago)
                run.outputs = [["node": "save", "images": [["name": .string("\(id).png"), "created_by_run": true]]]]
                upkept.register(run)
            }
            upkept.expireOutputs(now: now)
            try await eventually { deleted.names.sorted() == ["mid.png", "old.png"] }
            upkept.evictExpired(now: now)
            #expect(upkept.run("old") == nil && upkept.run("mid") != nil && upkept.run("new") != nil)
            upkept.expireOutputs(now: now.addingTimeInterval(60))
            try await eventually { deleted.names.count == 3 }
            #expect(deleted.names.sorted() == ["mid.png", "new.png", "old.png"]) // none asked for twice
        }
    }

    @Test func pagesComeNewestFirstWithTheTotal() {
        for id in 1...5 {
            tracker.register(Run(id: "batch-\(id)", workflow: id % 2 == 0 ? "even" : "odd", itemIDs: [id]))
        }
        let (page, total) = tracker.runs(workflow: "odd", offset: 1, limit: 1)
        #expect(total == 3)
        #expect(page.map(\.id) == ["batch-3"])
        // Totals follow status changes (kept per workflow and status, not counted per request).
        tracker.handle(status(3, .inProgress, batch: "batch-3"))
        #expect(tracker.runs(status: .running).total == 1)
        #expect(tracker.runs(workflow: "odd", status: .queued).total == 2)
        #expect(tracker.runs(workflow: "odd", status: .queued).page.map(\.id) == ["batch-5", "batch-1"])
        #expect(tracker.runs(offset: 10).page.isEmpty && tracker.runs(offset: 10).total == 5)
    }

    /// The table's totals stay right while ended runs are evicted.
    @Test func totalsStayRightThroughEviction() {
        let small = RunTracker(
            upstream: upstream, hub: EventHub(), destination: "gw-test",
            configuration: RunTrackerConfiguration(maxRuns: 3),
            cleaner: ImageCleaner(retryDelays: []) { _ in }, mapOutputs: { _, _ in [] })
        for id in 1...10 {
            var run = Run(id: "batch-\(id)", workflow: "blur", itemIDs: [id])
            run.status = id <= 8 ? .completed : .queued
            small.register(run)
        }
        #expect(small.runs().total == 5) // 3 ended kept (the window) + 2 not ended
        #expect(small.runs(status: .completed).total == 3)
        #expect(small.runs(status: .queued).page.map(\.id) == ["batch-10", "batch-9"])
    }

    /// 100,000 synthetic runs through the tracker: the table stays within its window.
    // Seconds of computation (in a debug build): on a thread of its own, not the cooperative pool.
    @Test(.ownThread) func theRunTableStaysWithinItsWindow() async throws {
        let bounded = RunTracker(
            upstream: upstream, hub: EventHub(), destination: "gw-test",
            configuration: RunTrackerConfiguration(maxRuns: 1000),
            cleaner: ImageCleaner(retryDelays: []) { _ in }, mapOutputs: { _, _ in [] })
        let before = Self.residentMiB()
        for id in 1...100_000 {
            var run = Run(id: "batch-\(id)", workflow: "blur", itemIDs: [id])
            run.status = .completed
            run.completedAt = Date()
            bounded.register(run)
        }
        print(
            "run table: 100,000 runs through a window of 1,000: RSS \(before) MiB before, \(Self.residentMiB()) MiB after"
        )
        let pageStart = ContinuousClock.now
        for _ in 0..<1000 { _ = bounded.runs(limit: 50) }
        print("run table: a page of 50 (of 1,000), 1,000 times: \(ContinuousClock.now - pageStart)")
        #expect(bounded.count == 1000)
        #expect(bounded.run("batch-100000") != nil && bounded.run("batch-99000") == nil)
    }
}

extension RunTrackerTests {
    /// This process's resident memory from /proc/self/statm (pages of 4 KiB), in MiB.
    static func residentMiB() -> Int {
        let fields = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * 4096 / (1024 * 1024) : 0
    }
}

/// The names the cleaner was asked to delete.
final class DeletedImages: Sendable {
    private let state = Mutex<[String]>([])
    func add(_ name: String) { state.withLock { $0.append(name) } }
    var names: [String] { state.withLock { $0 } }
}
