import Foundation
import HTTPCore
import JSONValue
import Synchronization

/// Follows InvokeAI's queue events: Socket.IO 5 / Engine.IO 4 on `/ws/socket.io` over the
/// project's own `WebSocketClient`, on a thread of its own.
///
/// Delivery: `onEvent` is called on the stream's thread, in the order InvokeAI sent the
/// events, right after each is decoded. Keep it short (hand the event to your own queue or
/// lock-protected state); while it runs, no other event is read.
///
/// Resilience: any loss (socket error, close, missed heartbeats, refused connect) leads to a
/// new connection after a bounded, jittered backoff, a new `subscribe_queue` (acknowledged by
/// the server before the stream counts as connected) and then a call of `reconcile`. Events
/// sent while no connection existed are lost by design; `reconcile` is where the owner re-reads
/// every run it still thinks is not terminal (`InvokeAIClient.queueItems(ids:)`), so a terminal
/// state missed during the gap is found. `reconcile` runs in a Task after every successful
/// connection, the first included, while events keep flowing: the owner must treat terminal
/// states as final and ignore a second report of one (a status event and the REST read may
/// both report the same end).
///
/// `state` (connected, since, reconnect count, last error) is for readiness and metrics;
/// `onStateChange` reports each change too.
public final class InvokeAIEventStream: @unchecked Sendable {
    public typealias EventHandler = @Sendable (InvokeAIEvent) -> Void
    public typealias StateHandler = @Sendable (InvokeAIEventStreamState) -> Void
    public typealias Reconcile = @Sendable () async -> Void

    public let configuration: InvokeAIEventStreamConfiguration
    private let client: InvokeAIClient
    private let onEvent: EventHandler
    private let onStateChange: StateHandler
    private let reconcile: Reconcile

    private let shared = Mutex(Shared())
    private let wake = NSCondition()
    private let finished = DispatchSemaphore(value: 0)

    private struct Shared {
        var state = InvokeAIEventStreamState()
        var started = false
        var stopped = false
        var socket: WebSocketClient?
    }

    public init(
        client: InvokeAIClient, configuration: InvokeAIEventStreamConfiguration = InvokeAIEventStreamConfiguration(),
        onEvent: @escaping EventHandler, onStateChange: @escaping StateHandler = { _ in },
        reconcile: @escaping Reconcile = {}
    ) {
        self.client = client
        self.configuration = configuration
        self.onEvent = onEvent
        self.onStateChange = onStateChange
        self.reconcile = reconcile
    }

    public var state: InvokeAIEventStreamState { shared.withLock { $0.state } }

    /// Starts the stream's thread (once; later calls do nothing).
    public func start() {
        let go = shared.withLock { s -> Bool in
            if s.started || s.stopped { return false }
            s.started = true
            return true
        }
        guard go else { return }
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "InvokeAIEventStream"
        thread.start()
    }

    /// Stops the stream: closes the connection and ends the thread (waits up to `timeout`).
    /// No event is delivered after it returns true.
    @discardableResult
    public func stop(timeout: Double = 5) -> Bool {
        let (socket, wasStarted, alreadyStopped) = shared.withLock { s -> (WebSocketClient?, Bool, Bool) in
            let already = s.stopped
            s.stopped = true
            return (s.socket, s.started, already)
        }
        if alreadyStopped { return true }
        socket?.close(code: 1000, reason: "client stopping")
        wake.lock(); wake.broadcast(); wake.unlock()
        guard wasStarted else { return true }
        return finished.wait(timeout: .now() + timeout) == .success
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

    private var isStopped: Bool { shared.withLock { $0.stopped } }

    // MARK: - the stream's thread

    private func run() {
        var failures = 0
        var everConnected = false
        while !isStopped {
            var connectedThisTime = false
            do {
                let (socket, handshake) = try openSession()
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
                let reconcile = self.reconcile
                Task { await reconcile() }
                try readLoop(socket, handshake: handshake)
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
            pause(delay)
        }
    }

    /// Sleeps, but returns at once when `stop()` is called.
    private func pause(_ seconds: Double) {
        let until = Date().addingTimeInterval(seconds)
        wake.lock()
        while !isStopped && Date() < until { _ = wake.wait(until: until) }
        wake.unlock()
    }

    private struct SetupFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// Connects, opens the Engine.IO and Socket.IO sessions (with the bearer token when there is
    /// one), subscribes to the queue and waits for the server's acknowledgement.
    private func openSession() throws -> (WebSocketClient, EngineIOHandshake) {
        let url = client.baseURL
        guard let host = url.host else { throw SetupFailed(description: "no host in \(url)") }
        let port = url.port ?? 80
        var prefix = url.path
        while prefix.hasSuffix("/") { prefix.removeLast() }
        let token = try blockingAwait { [client] in try await client.bearerToken() }
        var headers: [(String, String)] = []
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        var options = WebSocketClient.Options()
        options.connectTimeout = client.configuration.connectTimeout
        options.handshakeTimeout = configuration.setupTimeout
        options.maxMessageBytes = configuration.maxMessageBytes
        let socket = try WebSocketClient.connect(
            host: host, port: port, path: "\(prefix)/ws/socket.io/?EIO=4&transport=websocket",
            headers: headers, options: options)
        shared.withLock { s in s.socket = socket }
        if isStopped { socket.close(); throw SetupFailed(description: "stopped") }
        do {
            let deadline = Date().addingTimeInterval(configuration.setupTimeout)
            func next() throws -> String {
                let remaining = deadline.timeIntervalSinceNow
                if remaining <= 0 {
                    throw SetupFailed(description: "Socket.IO set-up took over \(configuration.setupTimeout) s")
                }
                guard case .text(let text) = try socket.receive(timeout: remaining) else {
                    throw SetupFailed(description: "binary message during set-up")
                }
                return text
            }
            guard case .open(let handshake) = try EngineIOPacket.parse(try next()) else {
                throw SetupFailed(description: "Engine.IO open packet expected")
            }
            let auth: JSONValue? = token.map { ["token": .string($0)] }
            try socket.send(text: EngineIOPacket.message(SocketIOPacket(kind: .connect, data: auth).encoded).encoded)
            var connected = false
            let ackID = 1
            while true {
                let packet = try EngineIOPacket.parse(try next())
                switch packet {
                case .ping(let data): try socket.send(text: EngineIOPacket.pong(data).encoded)
                case .close: throw SetupFailed(description: "Engine.IO close during set-up")
                case .message(let text):
                    let sio = try SocketIOPacket.parse(text)
                    switch sio.kind {
                    case .connect where !connected:
                        connected = true
                        let subscribe = SocketIOPacket.event(
                            "subscribe_queue", [["queue_id": .string(configuration.queueId)]], ackID: ackID)
                        try socket.send(text: EngineIOPacket.message(subscribe.encoded).encoded)
                    case .connectError:
                        let message = sio.data?["message"]?.stringValue ?? sio.data.map(JSONText.encode) ?? "refused"
                        if token != nil { _ = try? blockingAwait { [client] in try await client.renewToken() } }
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

    private func readLoop(_ socket: WebSocketClient, handshake: EngineIOHandshake) throws {
        let silenceLimit = Double(handshake.pingInterval + handshake.pingTimeout) / 1000 + configuration.heartbeatGrace
        while !isStopped {
            let message = try socket.receive(timeout: silenceLimit)
            guard case .text(let text) = message else { continue } // Engine.IO binary: not used by InvokeAI
            let packet: EngineIOPacket
            do { packet = try EngineIOPacket.parse(text) } catch {
                shared.withLock { $0.state.malformedPackets += 1 }
                continue
            }
            switch packet {
            case .ping(let data): try socket.send(text: EngineIOPacket.pong(data).encoded)
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

    /// Runs async work from this (non-cooperative) thread and waits for it.
    private func blockingAwait<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) throws -> T {
        let semaphore = DispatchSemaphore(value: 0)
        let box = ResultSlot<T>()
        Task {
            let result: Result<T, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            box.result.withLock { $0 = result }
            semaphore.signal()
        }
        semaphore.wait()
        return try box.result.withLock { $0 }!.get()
    }
}

/// Where `blockingAwait`'s task leaves its result for the waiting thread.
private final class ResultSlot<T: Sendable>: Sendable {
    let result = Mutex<Result<T, any Error>?>(nil)
}
