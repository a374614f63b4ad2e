import Foundation
import HTTPCore
import Synchronization
import Testing

@testable import Transport

/// The event loop's own services: timers, cross-thread work, and the group's lifecycle.
struct EventLoopTests {
    @Test func timersFireInDeadlineOrderAndCancelledOnesNever() async throws {
        let group = try EventLoopGroup(count: 1, name: "test-loop")
        defer { group.stop() }
        let loop = group.next()
        let fired = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            let now = MonotonicClock.now()
            // Scheduled out of order; one cancelled before it is due.
            loop.schedule(at: now + 60_000_000) {
                fired.withLock { $0.append("third") }; done.signal()
            }
            loop.schedule(at: now + 20_000_000) { fired.withLock { $0.append("first") } }
            let cancelled = loop.schedule(at: now + 30_000_000) { fired.withLock { $0.append("cancelled") } }
            loop.schedule(at: now + 40_000_000) { fired.withLock { $0.append("second") } }
            loop.cancelTimer(cancelled)
        }
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(fired.withLock { $0 } == ["first", "second", "third"])
    }

    @Test func aTimerDueBeforeTheTickWakesTheLoopEarly() throws {
        // The loop's tick is ten seconds here: a 50 ms timer that waited for it would miss the
        // five-second bound below.
        let loop = try EventLoop(index: 0, name: "test-loop", tickInterval: .seconds(10))
        loop.start()
        defer {
            loop.stop()
            loop.waitUntilStopped()
        }
        let done = DispatchSemaphore(value: 0)
        loop.execute { loop.schedule(at: MonotonicClock.now() + 50_000_000) { done.signal() } }
        #expect(done.wait(timeout: .now() + 5) == .success)
    }

    @Test func workHandedToTheLoopRunsOnItsThread() throws {
        let group = try EventLoopGroup(count: 2, name: "test-loop")
        defer { group.stop() }
        let first = group.next()
        let second = group.next()
        #expect(first !== second)
        #expect(group.next() === first)
        #expect(!first.inLoop)
        #expect(try first.runAndWait { first.inLoop && !second.inLoop })
        #expect(try second.runAndWait { 42 } == 42)
    }

    @Test func aStoppedGroupSaysSo() throws {
        let group = try EventLoopGroup(count: 1, name: "test-loop")
        _ = group.next()
        #expect(!group.isStopped)
        group.stop()
        #expect(group.isStopped)
        group.stop() // twice is harmless
    }
}
