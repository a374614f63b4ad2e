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
