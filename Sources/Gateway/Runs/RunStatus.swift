import InvokeAI

/// Where a run stands, summarised over its queue items.
public enum RunStatus: String, Sendable, CaseIterable {
    case queued, running, completed, failed, canceled

    public var isTerminal: Bool { self == .completed || self == .failed || self == .canceled }

    /// The run's status from its items': running while any runs or waits (a parent item waits
    /// for the child items of the workflows it calls), terminal once all are (failed wins over
    /// canceled, which wins over completed), queued before.
    static func summarising(_ items: [QueueItemStatus]) -> RunStatus {
        if items.isEmpty { return .queued }
        if items.allSatisfy(\.isTerminal) {
            if items.contains(.failed) { return .failed }
            if items.contains(.canceled) { return .canceled }
            return .completed
        }
        if items.contains(where: { $0 == .inProgress || $0 == .waiting || $0.isTerminal }) { return .running }
        return .queued
    }
}
