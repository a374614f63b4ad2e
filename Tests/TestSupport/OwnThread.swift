import Foundation
import Synchronization
import Testing

/// A task executor with one thread of its own: jobs run on it one at a time, in order.
public final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false

    public init(name: String) {
        let thread = Thread { [self] in runJobs() }
        thread.name = name
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// The thread ends once the jobs enqueued so far have run.
    public func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func runJobs() {
        while true {
            condition.lock()
            while jobs.isEmpty, !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Runs each test of a suite on a thread of its own (`@Suite(.ownThread)`), not on Swift's
/// cooperative pool, which has one thread per core. For tests that block while they wait:
/// loopback clients reading a socket, a process run to its end, a long computation. On the
/// pool, two of them on two cores would leave no thread to the server's asynchronous handlers
/// and the other tests' tasks, and the unit tests could not run in parallel.
public struct OwnThreadTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        guard testCase != nil else { return try await function() } // the suite itself: nothing runs here
        await Self.turns.acquire()
        defer { Self.turns.release() }
        let executor = ThreadExecutor(name: "test: \(test.name)")
        defer { executor.stop() }
        try await withTaskExecutorPreference(executor) { try await function() }
    }

    /// How many such tests run at once: as many as the pool has threads would, twice over.
    /// Unbounded, a hundred loopback tests start together and their one-second timeouts fire
    /// while they wait for a core.
    static let turns = AsyncTurns(ProcessInfo.processInfo.activeProcessorCount * 2)
}

/// At most `limit` holders at a time; the others wait (suspended, holding no thread) in order.
public final class AsyncTurns: Sendable {
    private struct State {
        var free: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Mutex<State>

    public init(_ limit: Int) { state = Mutex(State(free: max(1, limit))) }

    public func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                guard s.free > 0 else {
                    s.waiting.append(continuation)
                    return false
                }
                s.free -= 1
                return true
            }
            if now { continuation.resume() }
        }
    }

    /// Hands the turn to the first waiter, if any.
    public func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard !s.waiting.isEmpty else {
                s.free += 1
                return nil
            }
            return s.waiting.removeFirst()
        }
        next?.resume()
    }
}

extension Trait where Self == OwnThreadTrait {
    /// Each test on a thread of its own: see `OwnThreadTrait`.
    public static var ownThread: Self { Self() }
}
