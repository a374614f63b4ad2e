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
