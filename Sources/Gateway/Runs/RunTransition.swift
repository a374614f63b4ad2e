import Foundation
import InvokeAI
import Synchronization

/// A run moved: queued (enqueued by this gateway), running (its first item started, or a retry
/// reopened it), or ended (confirmed against InvokeAI's record). For the log and the metrics.
public struct RunTransition: Sendable {
    public let run: Run
    public let from: RunStatus?
    public let to: RunStatus
    /// From the enqueueing to the first item's start, and from that start to the last item's
    /// completion: InvokeAI's own timestamps, given only when an ended run's record has them.
    public let queueWaitSeconds: Double?
    public let durationSeconds: Double?

    init(_ run: Run, from: RunStatus?, to: RunStatus, queueWait: Double? = nil, duration: Double? = nil) {
        self.run = run
        self.from = from
        self.to = to
        self.queueWaitSeconds = queueWait
        self.durationSeconds = duration
    }

    /// The durations from an ended run's items as InvokeAI records them (none that it lacks).
    static func ended(
        _ run: Run, from: RunStatus, items: [InvokeAIQueueItem], date: (String?) -> Date?
    ) -> RunTransition {
        let created = date(items.compactMap(\.createdAt).min())
        let started = date(items.compactMap(\.startedAt).min())
        let completed = date(items.compactMap(\.completedAt).max())
        let wait = created.flatMap { created in started.map { $0.timeIntervalSince(created) } }
        let duration = started.flatMap { started in completed.map { $0.timeIntervalSince(started) } }
        return RunTransition(run, from: from, to: run.status, queueWait: wait, duration: duration)
    }
}

/// Where the tracker tells of its runs' transitions (set once by the server).
final class RunTransitionObservers: Sendable {
    private let observer = Mutex<(@Sendable (RunTransition) -> Void)?>(nil)

    func set(_ body: @escaping @Sendable (RunTransition) -> Void) { observer.withLock { $0 = body } }

    func tell(_ transition: RunTransition) { observer.withLock { $0 }?(transition) }
}
