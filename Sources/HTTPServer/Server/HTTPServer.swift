import HTTPCore
import Logging
import Synchronization
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 and h2c server on raw sockets: one epoll event loop per core, each with its own
/// SO_REUSEPORT listener per bound address, so the kernel spreads connections across loops (a
/// port some other socket listens on is refused first: see `Socket.checkAvailable`).
/// The loops are its own, or a group it shares with the application's clients (then their
/// owner starts and stops them with the rest of the application).
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration
    public let metrics = HTTPServerMetrics()
    private let logger: Logger
    private let serverLoops: [HTTPServerLoop]
    private let loops: EventLoopGroup
    /// Whether the server made its loops (and so stops them at shutdown).
    private let ownsLoops: Bool
    private let boundAddresses = Mutex<[SocketAddress]>([])
    private let lifecycle = Mutex<Lifecycle>(.created)

    private enum Lifecycle { case created, running, stopping, stopped }

    public convenience init(
        configuration: HTTPServerConfiguration, responder: some HTTPResponder, logger: Logger = Logger(label: "http")
    ) throws {
        try self.init(configuration: configuration, responder: responder, loops: nil, logger: logger)
    }

    /// `loops`: an event loop group to share (its size wins over `eventLoopCount`); nil makes
    /// the server's own.
    package init(
        configuration: HTTPServerConfiguration, responder: some HTTPResponder, loops: EventLoopGroup?,
        logger: Logger = Logger(label: "http")
    ) throws {
        self.configuration = configuration
        self.logger = logger
        ownsLoops = loops == nil
        let group = try loops ?? EventLoopGroup(count: configuration.eventLoopCount, name: "http-loop")
        self.loops = group
        let metrics = self.metrics
        serverLoops = group.loops.map { loop in
            HTTPServerLoop(
                loop: loop, configuration: configuration, responder: responder, metrics: metrics, logger: logger)
        }
    }

    /// The addresses listened on, with the real port (useful with port 0).
    public var addresses: [SocketAddress] { boundAddresses.withLock { $0 } }
    public var port: Int { addresses.first?.port ?? configuration.port }

    /// Binds every address the host resolves to and starts the loops.
    public func start() throws {
        try lifecycle.withLock { state in
            guard state == .created else { throw HTTPError(.internalServerError, "server already started") }
            state = .running
        }
        loops.start()
        var port = configuration.port
        var bound: [SocketAddress] = []
        var opened: [Int32] = []
        do {
            for address in try SocketAddress.resolve(host: configuration.host, port: port) {
                // A port another process listens on fails here, not silently shared (SO_REUSEPORT).
                if port != 0 { try Socket.checkAvailable(address.withPort(port)) }
                for serverLoop in serverLoops {
                    let fd = try Socket.listen(on: address.withPort(port), reusePort: true)
                    opened.append(fd)
                    // Port 0: the first bind picks the port, the other listeners share it.
                    if port == 0 { port = try SocketAddress.local(of: fd).port }
                    try serverLoop.loop.runAndWait { try serverLoop.addListener(fd: fd) }
                }
                bound.append(address.withPort(port))
            }
        } catch {
            for fd in opened { close(fd) }
            throw error
        }
        boundAddresses.withLock { $0 = bound }
        logger.info(
            "listening on \(bound.map(\.description).joined(separator: ", ")) with \(serverLoops.count) event loops")
    }

    /// Graceful shutdown: stop accepting, close idle connections, let in-flight requests finish
    /// within the grace period, then close what is left and stop the loops.
    public func shutdown() async {
        let proceed = lifecycle.withLock { state -> Bool in
            guard state == .running else { return false }
            state = .stopping
            return true
        }
        guard proceed else { return }
        let remaining = Mutex(serverLoops.count)
        for serverLoop in serverLoops {
            serverLoop.loop.execute {
                serverLoop.beginShutdown { remaining.withLock { $0 -= 1 } }
            }
        }
        let deadline = MonotonicClock.now() + MonotonicClock.nanoseconds(configuration.shutdownGracePeriod)
        while remaining.withLock({ $0 }) > 0, MonotonicClock.now() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if remaining.withLock({ $0 }) > 0 {
            logger.warning("grace period over: closing the connections still open")
        }
        let stopped = Mutex(0)
        let ownsLoops = ownsLoops
        for serverLoop in serverLoops {
            serverLoop.loop.execute {
                serverLoop.closeAll()
                stopped.withLock { $0 += 1 }
                if ownsLoops { serverLoop.loop.stop() }
            }
        }
        while stopped.withLock({ $0 }) < serverLoops.count {
            try? await Task.sleep(for: .milliseconds(5))
        }
        lifecycle.withLock { $0 = .stopped }
        logger.info("stopped")
    }
}
