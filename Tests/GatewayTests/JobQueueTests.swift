import Synchronization
import TestSupport
import Testing

@testable import Gateway

/// A service's queue of background work: jobs are done only inside `run()`, scheduled ones at
/// their deadline, and nothing is left once `run()` is cancelled.
@Suite struct JobQueueTests {
    final class Log: Sendable {
        let entries = Mutex<[String]>([])
        func add(_ entry: String) { entries.withLock { $0.append(entry) } }
        var all: [String] { entries.withLock { $0 } }
    }

    @Test func jobsWaitForTheLoopAndAreDoneInsideIt() async throws {
        let jobs = JobQueue(), log = Log()
        jobs.submit { log.add("now") }
        jobs.schedule(after: .milliseconds(1), .inline { log.add("inline") })
        try await Task.sleep(for: .milliseconds(50))
        #expect(log.all.isEmpty) // nothing runs before the loop does
        let loop = Task { await jobs.run() }
        try await eventually { log.all.count == 2 }
        #expect(Set(log.all) == ["now", "inline"])
        loop.cancel()
        await loop.value
    }

    @Test func scheduledJobsRunInDeadlineOrderAndCancelledOnesNever() async throws {
        let jobs = JobQueue(), log = Log()
        let loop = Task { await jobs.run() }
        jobs.schedule(after: .milliseconds(300), .inline { log.add("c") })
        let dropped = try #require(jobs.schedule(after: .milliseconds(100), .inline { log.add("dropped") }))
        jobs.schedule(after: .milliseconds(200), .inline { log.add("b") })
        jobs.schedule(after: .milliseconds(50), .inline { log.add("a") }) // earlier than the loop's sleep
        jobs.cancel(dropped)
        #expect(jobs.scheduledCount == 3)
        try await eventually { log.all.count == 3 }
        #expect(log.all == ["a", "b", "c"])
        #expect(jobs.scheduledCount == 0)
        loop.cancel()
        await loop.value
    }

    @Test func cancellingTheLoopCancelsItsJobsAndRefusesNewOnes() async throws {
        let jobs = JobQueue(), log = Log()
        let loop = Task { await jobs.run() }
        jobs.submit {
            log.add("started")
            // Ends only by cancellation: the loop must cancel it and wait for it.
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
            log.add("cancelled")
        }
        jobs.schedule(after: .seconds(3600), .inline { log.add("never") })
        try await eventually { log.all == ["started"] }
        loop.cancel()
        await loop.value
        #expect(log.all == ["started", "cancelled"]) // waited for, not left running
        #expect(jobs.scheduledCount == 0)
        #expect(!jobs.submit { log.add("late") })
        #expect(jobs.schedule(after: .zero, .inline { log.add("late") }) == nil)
    }

    @Test func manyCancelledTimersDoNotPileUp() async throws {
        let jobs = JobQueue()
        let loop = Task { await jobs.run() }
        for _ in 0..<10_000 {
            if let ticket = jobs.schedule(after: .seconds(3600), .inline {}) { jobs.cancel(ticket) }
        }
        #expect(jobs.scheduledCount == 0)
        #expect(jobs.heldDeadlines <= 65) // their deadlines were dropped as they went, not kept
        loop.cancel()
        await loop.value
    }
}
