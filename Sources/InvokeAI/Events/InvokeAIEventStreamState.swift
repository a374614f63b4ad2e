import Foundation

/// What `/readyz` and `/metrics` need to know about the event stream.
public struct InvokeAIEventStreamState: Sendable, Equatable {
    /// Connected, Socket.IO session open and `subscribe_queue` acknowledged.
    public var connected: Bool
    /// When the current state (connected or not) began.
    public var since: Date
    /// Successful connections after the first one.
    public var reconnectCount: Int
    /// Connection attempts that failed, in all.
    public var failedAttempts: Int
    /// Why the last connection ended or the last attempt failed.
    public var lastError: String?
    /// Events delivered to the handler, in all.
    public var eventsDelivered: Int
    /// Socket.IO packets that could not be parsed (skipped, not fatal).
    public var malformedPackets: Int

    public init(
        connected: Bool = false, since: Date = Date(), reconnectCount: Int = 0, failedAttempts: Int = 0,
        lastError: String? = nil, eventsDelivered: Int = 0, malformedPackets: Int = 0
    ) {
        self.connected = connected
        self.since = since
        self.reconnectCount = reconnectCount
        self.failedAttempts = failedAttempts
        self.lastError = lastError
        self.eventsDelivered = eventsDelivered
        self.malformedPackets = malformedPackets
    }
}
