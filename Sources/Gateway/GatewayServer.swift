import HTTPServer
import InvokeAI
import Logging
import Synchronization

/// The running gateway: the HTTP server with every route, and the upstream client.
public final class GatewayServer: Sendable {
    public let configuration: GatewayConfiguration
    public let http: HTTPServer
    public let upstream: InvokeAIClient
    /// The event fan-out behind `/v1/events` and the per-run streams.
    public let events: EventHub
    private let heartbeatTask: Mutex<Task<Void, Never>?> = Mutex(nil)

    public init(configuration: GatewayConfiguration, logger: Logger = Logger(label: "gateway")) throws {
        self.configuration = configuration
        upstream = InvokeAIClient(baseURL: configuration.invokeAIURL, requestTimeout: configuration.upstreamTimeout)
        events = EventHub(configuration: configuration.events)
        var router = Router()
        HealthRoutes.add(to: &router, upstream: upstream)
        EventRoutes.add(to: &router, hub: events, cors: configuration.cors)
        try OpenAPIRoutes.add(to: &router, documentPath: configuration.openAPIFile)
        if let publicDirectory = configuration.publicDirectory {
            router.fallback = try StaticFiles(root: publicDirectory).handler
        }
        // The server is created after the router is complete; /metrics reads it lazily.
        let metricsSource = MetricsSource()
        MetricsRoutes.add(to: &router, metrics: { metricsSource.render() })
        http = try HTTPServer(configuration: configuration.server, responder: router, logger: logger)
        metricsSource.attach(http.metrics)
    }

    public func start() throws {
        try http.start()
        let hub = events
        let interval = Duration.milliseconds(Int(configuration.events.heartbeatInterval * 1000))
        heartbeatTask.withLock { task in
            task = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    hub.heartbeat()
                }
            }
        }
    }

    public func shutdown() async {
        heartbeatTask.withLock { $0?.cancel() }
        // Streams end cleanly (their last chunk is sent) before the server stops.
        events.closeAll()
        await http.shutdown()
    }
    public var port: Int { http.port }
}
