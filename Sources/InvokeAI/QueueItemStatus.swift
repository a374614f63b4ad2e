/// A queue item's status in InvokeAI 6.x.
public enum QueueItemStatus: String, Sendable, Codable, CaseIterable {
    case pending
    case inProgress = "in_progress"
    /// A parent item parked while the saved workflows it calls run as child items of its batch.
    case waiting
    case completed
    case failed
    case canceled

    /// Completed, failed and canceled never change again.
    public var isTerminal: Bool { self == .completed || self == .failed || self == .canceled }
}
