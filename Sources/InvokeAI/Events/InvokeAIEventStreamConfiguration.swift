/// Settings of `InvokeAIEventStream`.
public struct InvokeAIEventStreamConfiguration: Sendable {
    /// The queue to `subscribe_queue` to.
    public var queueId: String
    /// Reconnect backoff: the first wait, doubling per failed attempt up to `reconnectMaxDelay`,
    /// each jittered into [50 %, 100 %]. Attempts go on until `stop()`.
    public var reconnectInitialDelay: Double
    public var reconnectMaxDelay: Double
    /// How long to wait for the Engine.IO open, the Socket.IO connect and the subscription ack.
    public var setupTimeout: Double
    /// Silence longer than the server's `pingInterval + pingTimeout` plus this means a dead link.
    public var heartbeatGrace: Double
    /// Largest WebSocket message accepted (InvokeAI's progress previews are data URLs).
    public var maxMessageBytes: Int

    public init(
        queueId: String = "default", reconnectInitialDelay: Double = 0.25, reconnectMaxDelay: Double = 5,
        setupTimeout: Double = 10, heartbeatGrace: Double = 5, maxMessageBytes: Int = 16 << 20
    ) {
        self.queueId = queueId
        self.reconnectInitialDelay = reconnectInitialDelay
        self.reconnectMaxDelay = reconnectMaxDelay
        self.setupTimeout = setupTimeout
        self.heartbeatGrace = heartbeatGrace
        self.maxMessageBytes = maxMessageBytes
    }
}
