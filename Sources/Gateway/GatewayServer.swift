import HTTPServer
import InvokeAI
import Logging

/// The running gateway: the HTTP server with every route, and the upstream client.
public final class GatewayServer: Sendable {
    public let configuration: GatewayConfiguration
    public let http: HTTPServer
    public let upstream: InvokeAIClient

    public init(configuration: GatewayConfiguration, logger: Logger = Logger(label: "gateway")) throws {
        self.configuration = configuration
        upstream = InvokeAIClient(baseURL: configuration.invokeAIURL, requestTimeout: configuration.upstreamTimeout)
        var router = Router()
        HealthRoutes.add(to: &router, upstream: upstream)
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

    public func start() throws { try http.start() }
    public func shutdown() async { await http.shutdown() }
    public var port: Int { http.port }
}
