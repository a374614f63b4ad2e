#if canImport(Glibc)
import Glibc
#endif

/// Everything the server needs to know before it binds. Timeouts are checked about once a second.
public struct HTTPServerConfiguration: Sendable {
    /// Host name or address literal; every address it resolves to is bound ("::" is dual-stack).
    public var host: String
    /// 0 picks a free port (see `HTTPServer.port`).
    public var port: Int
    /// Event-loop threads; defaults to the number of cores.
    public var eventLoopCount: Int
    public var limits: HTTPRequestLimits
    /// From the first byte of a request until its header section is complete (slowloris guard): 408.
    public var headerTimeout: Duration
    /// Longest wait for the next byte of a request body: 408.
    public var bodyTimeout: Duration
    /// Longest time to receive a whole request body, however steadily it trickles: 408.
    public var bodyDeadline: Duration
    /// How long a keep-alive connection may sit with no request before it is closed.
    public var idleTimeout: Duration
    /// How long the socket may refuse every byte of pending output before the client is dropped.
    public var writeTimeout: Duration
    /// After SIGTERM: how long in-flight requests get to finish.
    public var shutdownGracePeriod: Duration
    /// Open connections beyond this are closed at once and counted.
    public var maxConnections: Int
    /// Unsent bytes a streamed body may queue before `HTTPResponseWriter` pushes back.
    public var streamHighWaterMark: Int
    public var serverName: String
    /// HTTP/2 (h2c) stream limit and flow-control windows.
    public var http2 = HTTP2Configuration()
    /// Told of every answered request (HTTP/1.x and HTTP/2), on the connection's event loop:
    /// must be quick and must not block.
    public var accessObserver: (@Sendable (HTTPAccessRecord) -> Void)?

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        eventLoopCount: Int = HTTPServerConfiguration.coreCount,
        limits: HTTPRequestLimits = HTTPRequestLimits(),
        headerTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(30),
        bodyDeadline: Duration = .seconds(60),
        idleTimeout: Duration = .seconds(60),
        writeTimeout: Duration = .seconds(30),
        shutdownGracePeriod: Duration = .seconds(10),
        maxConnections: Int = 16_384,
        streamHighWaterMark: Int = 1 << 20,
        serverName: String = "invokeai-gateway"
    ) {
        self.host = host
        self.port = port
        self.eventLoopCount = max(1, eventLoopCount)
        self.limits = limits
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.bodyDeadline = bodyDeadline
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.shutdownGracePeriod = shutdownGracePeriod
        self.maxConnections = maxConnections
        self.streamHighWaterMark = streamHighWaterMark
        self.serverName = serverName
    }

    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

/// Size limits applied while decoding a request.
public struct HTTPRequestLimits: Sendable, Equatable {
    /// Request line plus header fields, including line endings (431 beyond). Trailers count too.
    public var maxHeaderBytes: Int
    /// Decoded body size (413 beyond).
    public var maxBodyBytes: Int
    /// Number of header fields (431 beyond).
    public var maxHeaderCount: Int

    public init(maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 32 * 1024 * 1024, maxHeaderCount: Int = 128) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxHeaderCount = maxHeaderCount
    }
}

/// HTTP/2 settings of the server. Size and time limits are shared with HTTP/1.1
/// (`HTTPRequestLimits`, the timeouts of `HTTPServerConfiguration`).
public struct HTTP2Configuration: Sendable, Equatable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS: requests one connection may have open at once
    /// (long-lived event streams count too).
    public var maxConcurrentStreams: Int
    /// SETTINGS_INITIAL_WINDOW_SIZE: request body bytes a client may send on one stream
    /// before the server grants more.
    public var initialStreamWindowSize: Int
    /// Request body bytes a client may send on the whole connection before the server grants more.
    public var connectionWindowSize: Int

    public init(
        maxConcurrentStreams: Int = 512, initialStreamWindowSize: Int = 1 << 20, connectionWindowSize: Int = 4 << 20
    ) {
        self.maxConcurrentStreams = maxConcurrentStreams
        self.initialStreamWindowSize = initialStreamWindowSize
        self.connectionWindowSize = connectionWindowSize
    }
}
