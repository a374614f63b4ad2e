import Foundation
import InvokeAI

/// Collects what an `InvokeAIEventStream` delivers, and acts like a tiny RunTracker: every
/// item's terminal status is reported once, from whichever source sees it first (a status
/// event or the reconcile re-read), later reports of it are counted as duplicates.
final class EventRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [InvokeAIEvent] = []
    private var tracked: Set<Int> = []
    private(set) var terminal: [Int: (status: QueueItemStatus, source: String)] = [:]
    private(set) var duplicateTerminalReports = 0
    private(set) var reconcileCalls = 0

    func record(_ event: InvokeAIEvent) {
        lock.lock()
        events.append(event)
        lock.unlock()
        if case .queueItemStatusChanged(let change) = event, change.status.isTerminal {
            reportTerminal(change.item.itemId, change.status, source: "event")
        }
    }

    func track(_ ids: [Int]) {
        lock.lock(); tracked.formUnion(ids); lock.unlock()
    }

    func reportTerminal(_ itemId: Int, _ status: QueueItemStatus, source: String) {
        lock.lock(); defer { lock.unlock() }
        guard tracked.contains(itemId) else { return }
        if terminal[itemId] != nil { duplicateTerminalReports += 1; return }
        terminal[itemId] = (status, source)
    }

    /// The reconcile hook: re-read every tracked item not yet terminal.
    func reconcile(using client: InvokeAIClient) async {
        let open: [Int] = lock.withLock {
            reconcileCalls += 1
            return tracked.filter { terminal[$0] == nil }.sorted()
        }
        guard !open.isEmpty, let items = try? await client.queueItems(ids: open) else { return }
        for item in items where item.status.isTerminal { reportTerminal(item.itemId, item.status, source: "reconcile") }
    }

    func snapshot() -> [InvokeAIEvent] { lock.withLock { events } }
    func events(for itemId: Int) -> [InvokeAIEvent] { snapshot().filter { $0.itemId == itemId } }
    func terminalStatus(of itemId: Int) -> QueueItemStatus? { lock.withLock { terminal[itemId]?.status } }
    var reconciles: Int { lock.withLock { reconcileCalls } }
    var duplicates: Int { lock.withLock { duplicateTerminalReports } }

    /// Polls until `condition` holds or `timeout` passes; returns whether it held.
    func wait(timeout: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return condition()
    }
}
