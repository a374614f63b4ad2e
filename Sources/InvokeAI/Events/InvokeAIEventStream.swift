import Foundation
import HTTPCore
import JSONValue
import Synchronization

/// Follows InvokeAI's queue events: Socket.IO 5 / Engine.IO 4 on `/ws/socket.io` over the
/// project's own `WebSocketClient` (its socket on the client's event loops), processed by one
/// task the stream owns: `start` creates it, `stop` cancels it and waits for it.
///
/// Delivery: `onEvent` is called from the stream's task, in the order InvokeAI sent the
/// events, right after each is decoded. Keep it short and non-blocking (hand the event to your
/// own queue or lock-protected state); while it runs, no other event is read.
///
/// Resilience: any loss (socket error, close, missed heartbeats, refused connect) leads to a
/// new connection after a bounded, jittered backoff, a new `subscribe_queue` (acknowledged by
/// the server before the stream counts as connected) and then a call of `reconcile`. Events
/// sent while no connection existed are lost by design; `reconcile` is where the owner re-reads
/// every run it still thinks is not terminal (`InvokeAIClient.queueItems(ids:)`), so a terminal
/// state missed during the gap is found. `reconcile` runs as a child task of the session after
/// every successful connection, the first included, while events keep flowing: the owner must treat terminal
/// states as final and ignore a second report of one (a status event and the REST read may
/// both report the same end).
///
/// `state` (connected, since, reconnect count, last error) is for readiness and metrics;
/// `onStateChange` reports each change too.
public final class InvokeAIEventStream: @unchecked Sendable {
    public typealias EventHandler = @Sendable (InvokeAIEvent) -> Void
    public typealias StateHandler = @Sendable (InvokeAIEventStreamState) -> Void
    public typealias Reconcile = @Sendable () async -> Void
    /// A connection attempt failed: why, and the seconds until the next one.
    public typealias AttemptFailedHandler = @Sendable (_ reason: String, _ retryIn: Double) -> Void

    public let configuration: InvokeAIEventStreamConfiguration
    private let client: InvokeAIClient
    private let onEvent: EventHandler
    private let onStateChange: StateHandler
    private let reconcile: Reconcile
    private let onAttemptFailed: AttemptFailedHandler

    private let shared = Mutex(Shared())
    private let finished = DispatchSemaphore(value: 0)

    private struct Shared {
        var state = InvokeAIEventStreamState()
        var started = false
        var stopped = false
        var socket: WebSocketClient?
        var task: Task<Void, Never>?
    }

    public init(
        client: InvokeAIClient, configuration: InvokeAIEventStreamConfiguration = InvokeAIEventStreamConfiguration(),
        onEvent: @escaping EventHandler, onStateChange: @escaping StateHandler = { _ in },
        reconcile: @escaping Reconcile = {}, onAttemptFailed: @escaping AttemptFailedHandler = { _, _ in }
    ) {
        self.onAttemptFailed = onAttemptFailed
        self.client = client
        self.configuration = configuration
        self.onEvent = onEvent
        self.onStateChange = onStateChange
        self.reconcile = reconcile
    }

    public var state: InvokeAIEventStreamState { shared.withLock { $0.state } }

    /// Starts the stream's task (once; later calls do nothing).
    public func start() {
        shared.withLock { s in
            guard !s.started, !s.stopped else { return }
            s.started = true
            s.task = Task { [self] in
                await run()
                finished.signal()
            }
        }
    }

    /// Stops the stream: closes the connection, cancels the task and waits for it to end.
    /// No event is delivered after it returns.
    public func stop() async {
        guard let task = beginStopping() else { return }
        await task.value
    }

    /// As `stop()`, for synchronous callers: waits up to `timeout`; false if the task had not
    /// ended by then.
    @discardableResult
    public func stop(timeout: Double) -> Bool {
        guard beginStopping() != nil else { return true }
        return finished.wait(timeout: .now() + timeout) == .success
    }

    /// Marks the stream stopped, closes its socket and cancels its task; the task to wait for
    /// (nil if it never started or was already stopped).
    private func beginStopping() -> Task<Void, Never>? {
        let (socket, task) = shared.withLock { s -> (WebSocketClient?, Task<Void, Never>?) in
            if s.stopped { return (nil, nil) }
            s.stopped = true
            return (s.socket, s.task)
        }
        socket?.close(code: 1000, reason: "client stopping")
        task?.cancel()
        return task
    }

    /// Blocks until connected (or `timeout` passes); for tests and start-up.
    public func waitUntilConnected(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if state.connected { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return state.connected
    }

    private var isStopped: Bool { shared.withLock { $0.stopped } || Task.isCancelled }

    // MARK: - the stream's task

    private func run() async {
        var failures = 0
        var everConnected = false
        while !isStopped {
            var connectedThisTime = false
            do {
                let (socket, handshake) = try await openSession()
                let accepted = shared.withLock { s -> Bool in
                    if s.stopped { return false }
                    s.socket = socket
                    s.state.connected = true
                    s.state.since = Date()
                    if everConnected { s.state.reconnectCount += 1 }
                    return true
                }
                if !accepted { socket.close(); break }
                connectedThisTime = true
                everConnected = true
                failures = 0
                onStateChange(state)
                // The reconcile is the session's child: it runs while events flow, and a
                // session that ends (or a stop) cancels and awaits it.
                let reconcile = self.reconcile
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await reconcile() }
                    try await readLoop(socket, handshake: handshake)
                }
            } catch {
                let why = "\(error)"
                shared.withLock { s in
                    s.state.lastError = why
                    if !connectedThisTime { s.state.failedAttempts += 1 }
                }
            }
            let current = shared.withLock { s -> InvokeAIEventStreamState in
                s.socket?.shutdown()
                s.socket = nil
                if s.state.connected {
                    s.state.connected = false
                    s.state.since = Date()
                }
                return s.state
            }
            if connectedThisTime { onStateChange(current) }
            if isStopped { break }
            failures += 1
            let delay = RetryPolicy(
                maxAttempts: 2, initialDelay: configuration.reconnectInitialDelay,
                maxDelay: configuration.reconnectMaxDelay
            ).delay(beforeRetry: failures)
            if !connectedThisTime { onAttemptFailed(current.lastError ?? "unknown", delay) }
            // Cancelled (stopped) ends the sleep at once.
            try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
        }
    }

    private struct SetupFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// Connects, opens the Engine.IO and Socket.IO sessions (with the bearer token when there is
    /// one), subscribes to the queue and waits for the server's acknowledgement.
    private func openSession() async throws -> (WebSocketClient, EngineIOHandshake) {
        let url = client.baseURL
        guard let host = url.host else { throw SetupFailed(description: "no host in \(url)") }
        let port = url.port ?? 80
        var prefix = url.path
        while prefix.hasSuffix("/") { prefix.removeLast() }
        let token = try await client.bearerToken()
        var headers: [(String, String)] = []
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        var options = WebSocketClient.Options()
        options.connectTimeout = client.configuration.connectTimeout
        options.handshakeTimeout = configuration.setupTimeout
        options.maxMessageBytes = configuration.maxMessageBytes
        let socket = try await WebSocketClient.connect(
            host: host, port: port, path: "\(prefix)/ws/socket.io/?EIO=4&transport=websocket",
            headers: headers, options: options, on: client.http.loops.next())
        shared.withLock { s in s.socket = socket }
        if isStopped { socket.close(); throw SetupFailed(description: "stopped") }
        do {
            let deadline = Date().addingTimeInterval(configuration.setupTimeout)
            func next() async throws -> String {
                let remaining = deadline.timeIntervalSinceNow
                if remaining <= 0 {
                    throw SetupFailed(description: "Socket.IO set-up took over \(configuration.setupTimeout) s")
                }
                guard case .text(let text) = try await socket.receive(timeout: remaining) else {
                    throw SetupFailed(description: "binary message during set-up")
                }
                return text
            }
            guard case .open(let handshake) = try EngineIOPacket.parse(try await next()) else {
                throw SetupFailed(description: "Engine.IO open packet expected")
            }
            let auth: JSONValue? = token.map { ["token": .string($0)] }
            try await socket.send(
                text: EngineIOPacket.message(SocketIOPacket(kind: .connect, data: auth).encoded).encoded)
            var connected = false
            let ackID = 1
            while true {
                let packet = try EngineIOPacket.parse(try await next())
                switch packet {
                case .ping(let data): try await socket.send(text: EngineIOPacket.pong(data).encoded)
                case .close: throw SetupFailed(description: "Engine.IO close during set-up")
                case .message(let text):
                    let sio = try SocketIOPacket.parse(text)
                    switch sio.kind {
                    case .connect where !connected:
                        connected = true
                        let subscribe = SocketIOPacket.event(
                            "subscribe_queue", [["queue_id": .string(configuration.queueId)]], ackID: ackID)
                        try await socket.send(text: EngineIOPacket.message(subscribe.encoded).encoded)
                    case .connectError:
                        let message = sio.data?["message"]?.stringValue ?? sio.data.map(JSONText.encode) ?? "refused"
                        // A refused token is renewed for the next attempt; failing that, the next
                        // attempt's login reports why.
                        if token != nil { _ = try? await client.renewToken() }
                        throw SetupFailed(description: "Socket.IO connect refused: \(message)")
                    case .ack where sio.ackID == ackID:
                        return (socket, handshake)
                    case .event:
                        deliver(sio)
                    case .disconnect:
                        throw SetupFailed(description: "Socket.IO disconnect during set-up")
                    default: break
                    }
                default: break
                }
            }
        } catch {
            socket.shutdown()
            throw error
        }
    }

    private func readLoop(_ socket: WebSocketClient, handshake: EngineIOHandshake) async throws {
        let silenceLimit = Double(handshake.pingInterval + handshake.pingTimeout) / 1000 + configuration.heartbeatGrace
        while !isStopped {
            let message = try await socket.receive(timeout: silenceLimit)
            guard case .text(let text) = message else { continue } // Engine.IO binary: not used by InvokeAI
            let packet: EngineIOPacket
            do { packet = try EngineIOPacket.parse(text) } catch {
                shared.withLock { $0.state.malformedPackets += 1 }
                continue
            }
            switch packet {
            case .ping(let data): try await socket.send(text: EngineIOPacket.pong(data).encoded)
            case .close: throw SetupFailed(description: "server closed the Engine.IO session")
            case .message(let text):
                guard let sio = try? SocketIOPacket.parse(text) else {
                    shared.withLock { $0.state.malformedPackets += 1 }
                    continue
                }
                switch sio.kind {
                case .event: deliver(sio)
                case .disconnect: throw SetupFailed(description: "server ended the Socket.IO session")
                default: break
                }
            default: break
            }
        }
    }

    private func deliver(_ packet: SocketIOPacket) {
        guard let (name, payload) = packet.eventNameAndPayload else { return }
        let event = InvokeAIEvent.decode(name: name, payload: payload)
        if isStopped { return }
        shared.withLock { $0.state.eventsDelivered += 1 }
        onEvent(event)
    }
}
