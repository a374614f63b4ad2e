/// Bounds of the event fan-out.
public struct EventHubConfiguration: Sendable {
    /// Events kept for replay (`Last-Event-ID`), by count...
    public var replayCapacity: Int
    /// ...and by age, in seconds.
    public var replayMaxAge: Double
    /// Events queued for one subscriber before it is declared too slow and disconnected.
    public var subscriberQueueLimit: Int
    /// Subscribers at once; beyond, new streams get 503 with Retry-After.
    public var maxSubscribers: Int
    /// Seconds of silence after which an idle stream gets a comment line.
    public var heartbeatInterval: Double
    /// The `retry:` advice sent on connect, in milliseconds.
    public var retryMilliseconds: Int
    /// Bytes queued for all subscribers together (written but not taken by their sockets, and
    /// waiting in their queues); beyond, the subscribers with the largest backlog are dropped.
    public var maxQueuedBytes: Int = 64 << 20

    public init(
        replayCapacity: Int = 10_000, replayMaxAge: Double = 900, subscriberQueueLimit: Int = 1_000,
        maxSubscribers: Int = 20_000, heartbeatInterval: Double = 15, retryMilliseconds: Int = 2_000
    ) {
        self.replayCapacity = replayCapacity
        self.replayMaxAge = replayMaxAge
        self.subscriberQueueLimit = subscriberQueueLimit
        self.maxSubscribers = maxSubscribers
        self.heartbeatInterval = heartbeatInterval
        self.retryMilliseconds = retryMilliseconds
    }
}
