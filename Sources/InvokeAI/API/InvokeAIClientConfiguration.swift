import Foundation

/// Where InvokeAI is and how patient, persistent and authenticated the client is.
public struct InvokeAIClientConfiguration: Sendable {
    /// InvokeAI's base URL (plain `http://host:port`; its REST API is below `/api`).
    public var baseURL: URL
    /// Bounds opening a connection: a REST connection (within `requestTimeout` or
    /// `downloadTimeout`) and the event stream's socket connect (its WebSocket handshake has
    /// its own timeout).
    public var connectTimeout: Double
    /// Bounds one REST attempt from start to last byte: waiting for a free pooled connection,
    /// connecting, sending, and reading the whole answer.
    public var requestTimeout: Double
    /// Bounds an image download to a file, the same way.
    public var downloadTimeout: Double
    /// Bounds reading InvokeAI's schema document (`/openapi.json`, every node's schema): InvokeAI
    /// builds it on the first request after it starts, which takes seconds on a slow machine.
    public var schemaTimeout: Double
    public var retry: RetryPolicy
    public var auth: InvokeAIAuth
    /// Answers larger than this are refused (images are downloaded to files instead).
    public var maxResponseBytes: Int
    /// Image downloads larger than this are refused (and their file removed).
    public var maxDownloadBytes: Int
    /// Told of every REST call when it ends (for metrics); must be quick.
    public var callObserver: (@Sendable (InvokeAICall) -> Void)?

    public init(
        baseURL: URL, connectTimeout: Double = 5, requestTimeout: Double = 30, downloadTimeout: Double = 120,
        schemaTimeout: Double = 30,
        retry: RetryPolicy = RetryPolicy(), auth: InvokeAIAuth = .none, maxResponseBytes: Int = 64 << 20,
        maxDownloadBytes: Int = 1 << 30
    ) {
        self.baseURL = baseURL
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.downloadTimeout = downloadTimeout
        self.schemaTimeout = schemaTimeout
        self.retry = retry
        self.auth = auth
        self.maxResponseBytes = maxResponseBytes
        self.maxDownloadBytes = maxDownloadBytes
    }
}

/// How the client proves who it is to a multi-user InvokeAI (`multiuser: true`).
public enum InvokeAIAuth: Sendable, Equatable {
    /// Single-user InvokeAI: no credentials.
    case none
    /// A bearer token given in configuration. It cannot be renewed: a 401 is final.
    case token(String)
    /// E-mail and password for `POST /api/v1/auth/login`. The client logs in on first use and
    /// once more on a 401 before failing.
    case login(email: String, password: String)
}
