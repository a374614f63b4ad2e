import Foundation

/// Where InvokeAI is and how patient, persistent and authenticated the client is.
public struct InvokeAIClientConfiguration: Sendable {
    /// InvokeAI's base URL (`http://host:port`; its REST API is below `/api`).
    public var baseURL: URL
    /// Bounds establishing a connection: the event stream's socket connect and WebSocket
    /// handshake. REST requests go through URLSession, which on Linux has no separate connect
    /// timeout: there the connect is bounded by `requestTimeout`.
    public var connectTimeout: Double
    /// Bounds one REST attempt from start to last byte (URLSession's resource timeout).
    public var requestTimeout: Double
    /// Bounds an image download to a file.
    public var downloadTimeout: Double
    public var retry: RetryPolicy
    public var auth: InvokeAIAuth
    /// Answers larger than this are refused (images are downloaded to files instead).
    public var maxResponseBytes: Int

    public init(baseURL: URL, connectTimeout: Double = 5, requestTimeout: Double = 30, downloadTimeout: Double = 120,
                retry: RetryPolicy = RetryPolicy(), auth: InvokeAIAuth = .none, maxResponseBytes: Int = 64 << 20) {
        self.baseURL = baseURL
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.downloadTimeout = downloadTimeout
        self.retry = retry
        self.auth = auth
        self.maxResponseBytes = maxResponseBytes
    }
}
