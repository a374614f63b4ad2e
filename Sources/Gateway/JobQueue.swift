import Synchronization
import Transport

/// A long-lived part of the gateway with work of its own in the background. The server starts
/// `run()` in its task group when it starts and cancels it when it stops; the service's
/// background work happens only inside it.
public protocol GatewayService: Sendable {
    /// Does the service's background work until the calling task is cancelled.
    func run() async
}

/// The background work of one service: jobs to do now or at a deadline, each done inside the
/// service's `run()` (as a child task, or inline for a quick one), so none outlives the service
/// and none is fire-and-forget. Submitting is synchronous and cheap: event loops and the event
/// stream's thread submit. The loop sleeps until the earliest deadline or until a job comes.
/// Jobs submitted before `run()` starts wait for it; after it stopped they are refused.
final class JobQueue: Sendable {
    enum Job: Sendable {
        /// Done in a child task of `run()`.
        case task(@Sendable () async -> Void)
        /// Done by the loop itself: only for quick work that never waits (a timer's expiry).
        case inline(@Sendable () -> Void)
    }

    /// Names a scheduled job so it can be cancelled.
    struct Ticket: Hashable, Sendable {
        fileprivate let number: UInt64
    }

    private struct State {
        var ready: [Job] = []
        /// Deadlines in order; a cancelled job's entry stays until it comes up (or a compaction).
        var deadlines = MinHeap<ContinuousClock.Instant, UInt64>()
        var scheduled: [UInt64: Job] = [:]
        var nextNumber: UInt64 = 0
        /// The loop waiting for work, and whether work came since it last looked.
        var wake: CheckedContinuation<Void, Never>?
        var poked = false
        var running = false
        var stopped = false
    }

    private let state = Mutex(State())

    /// Queues `body` to start as soon as the loop runs. False when the queue has stopped.
    @discardableResult
    func submit(_ body: @escaping @Sendable () async -> Void) -> Bool {
        enqueue { s in
            s.ready.append(.task(body))
            return true
        } ?? false
    }

    /// Queues `job` to be done `delay` from now; nil when the queue has stopped.
    @discardableResult
    func schedule(after delay: Duration, _ job: Job) -> Ticket? {
        let deadline = ContinuousClock.now + delay
        return enqueue { s in
            s.nextNumber += 1
            s.scheduled[s.nextNumber] = job
            s.deadlines.insert(deadline, s.nextNumber)
            return Ticket(number: s.nextNumber)
        }
    }

    /// Forgets a scheduled job that has not been started.
    func cancel(_ ticket: Ticket) {
        state.withLock { s in
            guard s.scheduled.removeValue(forKey: ticket.number) != nil else { return }
            // Entries of cancelled jobs are dropped once they outnumber the live ones.
            if s.deadlines.count > 64, s.deadlines.count > 2 * s.scheduled.count {
                s.deadlines.keep { s.scheduled[$0.value] != nil }
            }
        }
    }

    /// Jobs scheduled and not yet started or cancelled.
    var scheduledCount: Int { state.withLock { $0.scheduled.count } }

    /// Deadlines held, a cancelled job's included until it is dropped (for tests).
    var heldDeadlines: Int { state.withLock { $0.deadlines.count } }

    private func enqueue<T>(_ add: (inout State) -> T) -> T? {
        let (result, wake) = state.withLock { s -> (T?, CheckedContinuation<Void, Never>?) in
            guard !s.stopped else { return (nil, nil) }
            let result = add(&s)
            s.poked = true
            defer { s.wake = nil }
            return (result, s.wake)
        }
        wake?.resume()
        return result
    }

    /// Does the jobs as they come due until the calling task is cancelled; the jobs running then
    /// are cancelled and waited for, the ones not started are dropped. Called once.
    func run() async {
        state.withLock { s in
            precondition(!s.running && !s.stopped, "a job queue runs once")
            s.running = true
        }
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let (due, next) = takeDue(now: .now)
                for job in due {
                    switch job {
                    case .task(let body): group.addTask { await body() }
                    case .inline(let body): body()
                    }
                }
                await sleep(until: next)
            }
        }
        state.withLock { s in
            s.stopped = true
            s.ready = []
            s.scheduled = [:]
            s.deadlines = MinHeap()
        }
    }

    /// The jobs due now, and the deadline of the next one.
    private func takeDue(now: ContinuousClock.Instant) -> ([Job], ContinuousClock.Instant?) {
        state.withLock { s in
            var due = s.ready
            s.ready = []
            while let (deadline, number) = s.deadlines.first {
                guard s.scheduled[number] != nil else {
                    s.deadlines.removeFirst() // cancelled
                    continue
                }
                guard deadline <= now else { return (due, deadline) }
                s.deadlines.removeFirst()
                due.append(s.scheduled.removeValue(forKey: number)!)
            }
            return (due, nil)
        }
    }

    /// Returns at `deadline` (never, when nil), when a job comes, or when the task is cancelled.
    private func sleep(until deadline: ContinuousClock.Instant?) async {
        guard let deadline else { return await waitForWork() }
        await withTaskGroup(of: Void.self) { race in
            // Not an error when it throws: the other child won, or the loop is being cancelled.
            race.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
            race.addTask { await self.waitForWork() }
            await race.next()
            race.cancelAll()
        }
    }

    private func waitForWork() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Cancellation is marked before the handler runs, and both take the lock: either
                // this sees it, or the handler finds the continuation stored.
                let now = state.withLock { s -> Bool in
                    if s.poked || Task.isCancelled {
                        s.poked = false
                        return true
                    }
                    s.wake = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let wake = state.withLock { s in
                defer { s.wake = nil }
                return s.wake
            }
            wake?.resume()
        }
    }
}
