import HTTPCore
import Logging
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// The server's share of one event loop: its listening sockets, the connections it accepted,
/// their timeouts, and per-loop caches. Touched only on its loop.
final class HTTPServerLoop: @unchecked Sendable {
    let loop: EventLoop
    let configuration: HTTPServerConfiguration
    let responder: any HTTPResponder
    let metrics: HTTPServerMetrics
    let logger: Logger
    /// The `Date` header value, refreshed every tick rather than formatted per response.
    private(set) var date: String = HTTPDate.now()
    private(set) var isShuttingDown = false
    private var listeners: [HTTPListener] = []
    private var connections: [Int32: any HTTPServerConnection] = [:]
    private var onDrained: (() -> Void)?

    init(
        loop: EventLoop, configuration: HTTPServerConfiguration, responder: any HTTPResponder,
        metrics: HTTPServerMetrics, logger: Logger
    ) {
        self.loop = loop
        self.configuration = configuration
        self.responder = responder
        self.metrics = metrics
        self.logger = logger
        loop.onTick = { [unowned self] in tick() }
    }

    var connectionCount: Int { connections.count }

    /// Hands an answered request's record to the access observer, if there is one.
    func report(_ access: HTTPAccessStart, streamed: Bool) {
        guard let observer = configuration.accessObserver else { return }
        observer(access.record(streamed: streamed))
    }

    /// Starts accepting on `fd` (loop thread).
    func addListener(fd: Int32) throws {
        let listener = HTTPListener(fd: fd, owner: self)
        try listener.start()
        listeners.append(listener)
    }

    func accepted(fd: Int32, peer: SocketAddress) {
        metrics.connectionsAccepted.add(1, ordering: .relaxed)
        let open = metrics.connectionsOpen.add(1, ordering: .relaxed).newValue
        if open > configuration.maxConnections || isShuttingDown {
            metrics.connectionsOpen.subtract(1, ordering: .relaxed)
            metrics.connectionsRejected.add(1, ordering: .relaxed)
            close(fd)
            return
        }
        let connection = HTTPConnection(fd: fd, peer: peer, context: self)
        do {
            try connection.start()
            connections[fd] = connection
        } catch {
            logger.warning("could not register connection from \(peer): \(error)")
            metrics.connectionsOpen.subtract(1, ordering: .relaxed)
            connection.closeNow() // closes the descriptor; not in `connections`, so counted here
        }
    }

    func connectionClosed(_ connection: any HTTPServerConnection) {
        guard connections[connection.fd] === connection else { return }
        connections[connection.fd] = nil
        metrics.connectionsOpen.subtract(1, ordering: .relaxed)
        if isShuttingDown, connections.isEmpty { onDrained?(); onDrained = nil }
    }

    /// Hands an HTTP/1.1 connection's socket to an HTTP/2 session: prior knowledge (`input`
    /// starts with the preface) or `Upgrade: h2c` (`upgrade` is answered on stream 1).
    /// The HTTP/1.1 connection has already released the socket (deregistered, not closed).
    func switchToHTTP2(
        fd: Int32, peer: SocketAddress, input: [UInt8], pendingOutput: [UInt8],
        upgrade: (request: HTTPRequest, settings: [UInt8])?
    ) {
        let connection = HTTP2Connection(fd: fd, peer: peer, context: self, pendingOutput: pendingOutput)
        connections[fd] = connection
        do {
            try connection.start(input: input, upgrade: upgrade)
        } catch {
            logger.debug("h2c from \(peer) refused: \(error)")
            connection.closeNow()
        }
    }

    private func tick() {
        date = HTTPDate.now()
        let now = MonotonicClock.now()
        for connection in Array(connections.values) { connection.checkTimeouts(now: now) }
        for listener in listeners { listener.resumeIfPaused() }
    }

    /// Stops accepting and starts closing connections; `drained` runs once none is left.
    func beginShutdown(drained: @escaping () -> Void) {
        isShuttingDown = true
        for listener in listeners { listener.stop() }
        listeners.removeAll()
        onDrained = drained
        for connection in Array(connections.values) { connection.beginShutdown() }
        if connections.isEmpty { onDrained?(); onDrained = nil }
    }

    /// Closes whatever is still open (the grace period is over).
    func closeAll() {
        for connection in Array(connections.values) { connection.closeNow() }
    }
}

/// What `HTTPServerLoop` needs of an accepted connection, whichever protocol it speaks
/// (`HTTPConnection` for HTTP/1.x, `HTTP2Connection` once a connection switched to h2c).
protocol HTTPServerConnection: AnyObject {
    var fd: Int32 { get }
    func checkTimeouts(now: UInt64)
    func beginShutdown()
    func closeNow()
}
