#if canImport(Glibc)
import Glibc
#endif

/// A loopback port that listens but never accepts: connections complete (the kernel queues
/// them) and nothing ever answers, as an upstream that hangs.
public final class SilentPort: @unchecked Sendable {
    public let port: Int
    private let fd: Int32

    public init() throws { (fd, port) = try bindLoopbackPort(listening: true) }

    deinit { Glibc.close(fd) }
}
