import Foundation
import HTTPServer
import InvokeAI
import Logging
import Synchronization
import Transport

/// The running gateway: the HTTP server with every route, and the upstream client.
public final class GatewayServer: Sendable {
    public let configuration: GatewayConfiguration
    public let http: HTTPServer
    public let upstream: InvokeAIClient
    /// The event fan-out behind `/v1/events` and the per-run streams.
    public let events: EventHub
    /// The gateway's runs, fed by InvokeAI's event stream.
    public let runs: RunTracker
    /// InvokeAI's Socket.IO event stream.
    public let upstreamEvents: InvokeAIEventStream
    /// The named workflows.
    public let catalog: WorkflowCatalog
    /// Every route served, as `METHOD /path/{parameter}` (static files aside).
    public let routeList: [String]
    /// Who may do what: the keys in force (`--keys-file`), or everyone when there are none.
    public let access: AccessPolicy
    private let logger: Logger
    private let loops: EventLoopGroup
    /// The one task that owns the gateway's background work: the services' loops, run recovery
    /// and upkeep, children of one task group. Started by `start`, cancelled by `shutdown`.
    private let services: Mutex<Task<Void, Never>?> = Mutex(nil)

    public init(configuration: GatewayConfiguration, logger: Logger = Logger(label: "gateway")) throws {
        self.configuration = configuration
        // One set of event loops for everything on a socket: the server's connections and the
        // upstream's (REST and the event stream's WebSocket).
        loops = try EventLoopGroup(count: configuration.server.eventLoopCount, name: "loop")
        let metrics = GatewayMetrics()
        let operations = OperationsLog(metrics: metrics, base: logger, factory: configuration.logHandlerFactory)
        var upstreamConfiguration = InvokeAIClientConfiguration(
            baseURL: configuration.invokeAIURL, requestTimeout: configuration.upstreamTimeout,
            schemaTimeout: configuration.upstreamSchemaTimeout, auth: configuration.invokeAIAuth)
        upstreamConfiguration.callObserver = { metrics.observe($0) }
        upstream = InvokeAIClient(configuration: upstreamConfiguration, loops: loops)
        self.logger = logger
        events = EventHub(configuration: configuration.events)
        let hub = events
        let catalog = WorkflowCatalog(
            directory: configuration.workflowsDirectory, client: upstream, logger: logger,
            schemaCacheFile: configuration.stateDirectory.map {
                ($0 as NSString).appendingPathComponent("invokeai-openapi.json")
            })
        self.catalog = catalog
        // Outputs through the workflow when it is known (output nodes, board inputs); otherwise
        // every image of the run.
        let tracker = RunTracker(
            client: upstream, hub: hub, destination: configuration.destination, configuration: configuration.runs,
            outputTTL: configuration.outputTTL,
            mapOutputs: { name, items in
                // (Looked up, not just read from the cache: right after a restart the catalog may not
                // have been read yet when recovered runs are mapped.) InvokeAI's library not
                // answering is the "not known" case too: every image of the run is listed.
                guard let entry = try? await catalog.entry(name) else { return QueueItemOutputs.map(items) }
                return WorkflowOutputs.map(entry.workflow, items: items)
            })
        runs = tracker
        tracker.observeTransitions { operations.transition($0) }
        upstreamEvents = InvokeAIEventStream(
            client: upstream,
            onEvent: { tracker.handle($0) },
            onStateChange: { state in
                operations.streamChanged(state)
                tracker.eventStreamChanged()
                // InvokeAI may have restarted with other node packs: read its schemas again.
                if state.connected { catalog.upstreamChanged() }
                hub.publish(
                    state.connected ? "upstream.connected" : "upstream.disconnected",
                    data: [
                        "connected": .bool(state.connected), "reconnects": .int(state.reconnectCount),
                        "error": state.lastError.map { .string($0) } ?? .null,
                    ])
            },
            reconcile: { await tracker.reconcile() },
            onAttemptFailed: { operations.streamAttemptFailed(reason: $0, retryIn: $1) })
        var keyRing: KeyRing?
        if let keysFile = configuration.keysFile {
            do {
                keyRing = try KeyRing(path: keysFile, logger: logger)
            } catch {
                throw GatewayStartError(reason: error.description)
            }
        }
        access = AccessPolicy(keyRing: keyRing)
        // Every route is added through the access check its entry in AccessTable asks for.
        var router = AccessRouter(policy: access)
        // InvokeAI's failures become 502/503/504 problems here, once, for every route.
        router.router.errorMapper = UpstreamProblem.mapped
        let stream = upstreamEvents
        var streamState: (@Sendable () -> InvokeAIEventStreamState)?
        if configuration.followsUpstreamEvents { streamState = { @Sendable in stream.state } }
        HealthRoutes.add(to: &router, upstream: upstream, eventStream: streamState)
        EventRoutes.add(to: &router, hub: events, cors: configuration.cors)
        RunRoutes.add(to: &router, tracker: tracker, hub: hub, client: upstream, cors: configuration.cors)
        ImageRoutes.add(to: &router, client: upstream, tracker: tracker)
        WorkflowRoutes.add(
            to: &router, catalog: catalog, models: InstalledModelList(client: upstream), uploads: configuration.uploads)
        let keys = IdempotencyStore(
            file: configuration.stateDirectory.map {
                URL(fileURLWithPath: $0).appendingPathComponent("idempotency-keys.jsonl")
            },
            destination: configuration.destination)
        // Serving without the keys on disk could enqueue a retried request a second time.
        if let failure = keys.loadFailure { throw GatewayStartError(reason: failure) }
        RunSubmission(
            catalog: catalog, tracker: tracker, client: upstream, idempotency: keys,
            preparation: RunPreparation(client: upstream), maxWait: configuration.maxWait, access: access
        ).add(to: &router)
        ReadThroughRoutes.add(to: &router, client: upstream, destination: configuration.destination)
        try OpenAPIRoutes.add(to: &router, documentPath: configuration.openAPIFile)
        ProblemRoutes.add(to: &router)
        if let publicDirectory = configuration.publicDirectory {
            let files = try StaticFiles(root: publicDirectory)
            router.router.fallback = .sync { request in
                var response = try files.respond(to: request)
                response.headers.add("Content-Security-Policy", SecurityHeaders.pagePolicy)
                return response
            }
        }
        // The server is created after the router is complete; /metrics reads it lazily.
        let refusals = RefusalCounters()
        let metricsSource = MetricsSource(
            tracker: tracker, access: access, refusals: refusals, hub: hub, registry: metrics,
            upstreamState: streamState)
        MetricsRoutes.add(to: &router, metrics: { metricsSource.render() })
        routeList = router.router.routeList
        // Before the access check: a page on another site learns nothing, not even a 401.
        let guarded = RequestGuard(
            next: router.router,
            hosts: AllowedHosts(bindAddress: configuration.server.host, configured: configuration.allowedHosts),
            cors: configuration.cors, refusals: refusals)
        // Every answered request: its access line and its duration histogram.
        var server = configuration.server
        let outerObserver = server.accessObserver
        server.accessObserver = { record in
            operations.answered(record)
            outerObserver?(record)
        }
        http = try HTTPServer(configuration: server, responder: guarded, loops: loops, logger: logger)
        metricsSource.attach(http.metrics)
    }

    public func start() throws {
        try http.start()
        if configuration.followsUpstreamEvents { upstreamEvents.start() }
        let tracker = runs, catalog = catalog, hub = events, logger = logger
        let recovers = configuration.followsUpstreamEvents
        let interval = Duration.milliseconds(Int(configuration.events.heartbeatInterval * 1000))
        let task = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { await tracker.run() }
                group.addTask { await catalog.run() }
                // Runs enqueued before a restart are found again from InvokeAI's queue.
                if recovers { group.addTask { await Self.recover(tracker, logger: logger) } }
                group.addTask { await Self.upkeep(hub: hub, tracker: tracker, every: interval) }
            }
        }
        services.withLock { $0 = task }
    }

    /// Reads the runs back from InvokeAI, retried until it succeeds: with InvokeAI down at start,
    /// runs are found once it is up.
    private static func recover(_ tracker: RunTracker, logger: Logger) async {
        var pause = 1.0
        while true {
            do {
                try await tracker.recover()
                return
            } catch {
                logger.warning("could not recover runs from InvokeAI (retrying in \(Int(pause)) s): \(error)")
            }
            do { try await Task.sleep(for: .seconds(pause)) } catch { return } // cancelled: shutting down
            pause = min(pause * 2, 30)
        }
    }

    /// Upkeep on the heartbeat's beat: idle event streams get their comment, outputs past their
    /// time-to-live are deleted, ended runs past the window's age leave it.
    private static func upkeep(hub: EventHub, tracker: RunTracker, every interval: Duration) async {
        while true {
            do { try await Task.sleep(for: interval) } catch { return } // cancelled: shutting down
            hub.heartbeat()
            tracker.expireOutputs()
            tracker.evictExpired()
        }
    }

    /// Stops the server: event streams end cleanly (their last chunk is sent), requests in flight
    /// get the grace period, then InvokeAI's event stream stops and the background work is
    /// cancelled and waited for (a `?wait` still waiting answers with its run as it is).
    public func shutdown() async {
        events.closeAll()
        await http.shutdown()
        await upstreamEvents.stop()
        let task = services.withLock { task in
            defer { task = nil }
            return task
        }
        task?.cancel()
        await task?.value
        // Last: everything that used a socket has stopped.
        loops.stop()
    }
    public var port: Int { http.port }
}

/// Why the gateway cannot start.
public struct GatewayStartError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
