import Foundation
import HTTPCore
import HTTPServer
import InvokeAI
import Logging

/// Everything the gateway is told at start-up.
public struct GatewayConfiguration: Sendable {
    public var server: HTTPServerConfiguration
    /// Where InvokeAI answers (its REST API is below `/api`).
    public var invokeAIURL: URL
    /// Folder of workflow JSON files (used from the workflow-catalog issue on).
    public var workflowsDirectory: String?
    /// Folder served at `/` (the status page).
    public var publicDirectory: String?
    /// The OpenAPI document served at `/openapi.json`.
    public var openAPIFile: String?
    /// Timeout for each upstream request.
    public var upstreamTimeout: TimeInterval
    /// Timeout for reading InvokeAI's schema document (built by InvokeAI on its first request
    /// after a start: slower than other calls).
    public var upstreamSchemaTimeout: TimeInterval = 30
    /// How the gateway signs in to a multi-user InvokeAI (`.none` for a single-user one): REST
    /// calls and the event stream carry its token.
    public var invokeAIAuth: InvokeAIAuth
    /// Bounds of the server-sent event fan-out.
    public var events: EventHubConfiguration
    /// Browser origins allowed to read answers cross-origin (off when empty).
    public var cors: CORSPolicy
    /// The `destination` tag on every batch this gateway enqueues: how it finds its own runs
    /// (and leaves the GUI user's alone). Two gateways on one InvokeAI need different ones.
    public var destination: String
    /// Whether to follow InvokeAI's event stream (off in tests that have no InvokeAI).
    public var followsUpstreamEvents: Bool
    /// Where the gateway keeps what must survive a restart (idempotency keys); nil: memory only.
    public var stateDirectory: String?
    /// Longest `wait` a run submission may ask for, in seconds.
    public var maxWait: Double
    /// Output images of an ended run are deleted this many seconds after it ended; nil keeps them.
    public var outputTTL: TimeInterval?
    /// How many ended runs, and for how long, the run table keeps (older ones are read from
    /// InvokeAI when asked for).
    public var runs: RunTrackerConfiguration
    /// The keys file (`--keys-file`): requests need a key in it. Nil: no keys, everyone is an
    /// admin of one anonymous tenant (the command line allows that only on loopback).
    public var keysFile: String?
    /// Makes the handlers of the operations log (access lines, run transitions, upstream);
    /// nil: swift-log's bootstrapped factory, at the gateway logger's level.
    public var logHandlerFactory: (@Sendable (String) -> any LogHandler)?
    /// Host names requests may be addressed to besides the loopback names and the address
    /// listened on (`*`: any; see `AllowedHosts`).
    public var allowedHosts: [String] = []
    /// Bounds of the workflow definitions uploaded through the API.
    public var uploads = WorkflowUploadLimits()

    public init(
        server: HTTPServerConfiguration = HTTPServerConfiguration(),
        invokeAIURL: URL = URL(string: "http://127.0.0.1:9090")!,
        workflowsDirectory: String? = nil,
        publicDirectory: String? = nil,
        openAPIFile: String? = nil,
        upstreamTimeout: TimeInterval = 10,
        invokeAIAuth: InvokeAIAuth = .none,
        events: EventHubConfiguration = EventHubConfiguration(),
        cors: CORSPolicy = CORSPolicy(),
        destination: String = "invokeai-gateway",
        followsUpstreamEvents: Bool = true,
        stateDirectory: String? = nil,
        maxWait: Double = 300,
        outputTTL: TimeInterval? = nil,
        runs: RunTrackerConfiguration = RunTrackerConfiguration(),
        keysFile: String? = nil
    ) {
        self.server = server
        self.invokeAIURL = invokeAIURL
        self.workflowsDirectory = workflowsDirectory
        self.publicDirectory = publicDirectory
        self.openAPIFile = openAPIFile
        self.upstreamTimeout = upstreamTimeout
        self.invokeAIAuth = invokeAIAuth
        self.events = events
        self.cors = cors
        self.destination = destination
        self.followsUpstreamEvents = followsUpstreamEvents
        self.stateDirectory = stateDirectory
        self.maxWait = maxWait
        self.outputTTL = outputTTL
        self.runs = runs
        self.keysFile = keysFile
    }
}

/// Which browser origins may read the gateway's answers cross-origin. Off (empty) by default;
/// `*` allows any origin.
public struct CORSPolicy: Sendable, Equatable {
    public var allowedOrigins: Set<String>

    public init(allowedOrigins: Set<String> = []) { self.allowedOrigins = allowedOrigins }

    /// The headers to add for this request, if its Origin is allowed.
    public func headers(for request: HTTPRequest) -> HTTPHeaders {
        guard let origin = request.headers["Origin"], !allowedOrigins.isEmpty else { return HTTPHeaders() }
        if allowedOrigins.contains("*") { return ["Access-Control-Allow-Origin": "*"] }
        guard allowedOrigins.contains(origin) else { return HTTPHeaders() }
        return ["Access-Control-Allow-Origin": origin, "Vary": "Origin"]
    }
}
