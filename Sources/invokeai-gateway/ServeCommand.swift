import ArgumentParser
import Dispatch
import Foundation
import Gateway
import HTTPServer
import InvokeAI
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway.",
        discussion: """
            Every option can also be set with the environment variable named in its help; \
            a command-line value wins over the environment. A value that cannot be used, in a flag or the \
            environment, exits 64 naming it. SIGINT or SIGTERM shut down gracefully; SIGHUP reads the keys \
            file and the workflows folder again (everything else needs a restart).
            """
    )

    @Option(help: "Address to listen on; \"::\" listens on IPv6 and IPv4. (env GATEWAY_HOST)")
    var host: String = Environment.string("GATEWAY_HOST", "127.0.0.1")

    @Option(help: "Port to listen on; 0 picks a free one. (env GATEWAY_PORT)")
    var port: Int = Environment.int("GATEWAY_PORT", 8080)

    @Option(name: .customLong("invokeai"), help: "Base URL of InvokeAI. (env INVOKEAI_URL)")
    var invokeAIURL: String = Environment.string("INVOKEAI_URL", "http://127.0.0.1:9090")

    @Option(
        name: .customLong("invokeai-user"),
        help:
            "E-mail of the account the gateway signs in with on a multi-user InvokeAI; its password comes from --invokeai-password-file or the environment variable INVOKEAI_PASSWORD, never from a flag value. (env INVOKEAI_USER)"
    )
    var invokeAIUserFlag: String?
    var invokeAIUser: String? { invokeAIUserFlag ?? Environment.optionalString("INVOKEAI_USER") }

    @Option(
        name: .customLong("invokeai-password-file"),
        help:
            "File holding the --invokeai-user account's password (a trailing newline is ignored). (env INVOKEAI_PASSWORD_FILE)"
    )
    var invokeAIPasswordFileFlag: String?
    var invokeAIPasswordFile: String? {
        invokeAIPasswordFileFlag ?? Environment.optionalString("INVOKEAI_PASSWORD_FILE")
    }

    @Option(help: "Folder of workflow JSON files; uploads are stored there too. (env GATEWAY_WORKFLOWS)")
    var workflows: String = Environment.string("GATEWAY_WORKFLOWS", "workflows")

    @Option(help: "Folder for what must survive a restart (idempotency keys). (env GATEWAY_STATE_DIR)")
    var stateDir: String = Environment.string("GATEWAY_STATE_DIR", ".gateway-state")

    @Option(
        help: "Longest wait (seconds) a run submission may ask for with ?wait= or Prefer: wait=. (env GATEWAY_MAX_WAIT)"
    )
    var maxWait: Double = Environment.double("GATEWAY_MAX_WAIT", 300)

    @Option(
        help: "Delete a run's output images this many seconds after it ended; 0 keeps them. (env GATEWAY_OUTPUT_TTL)")
    var outputTTL: Double = Environment.double("GATEWAY_OUTPUT_TTL", 0)

    @Option(
        help:
            "Ended runs the run table keeps in memory; older ones are read from InvokeAI when asked for. (env GATEWAY_MAX_RUNS)"
    )
    var maxRuns: Int = Environment.int("GATEWAY_MAX_RUNS", 10_000)

    @Option(help: "Seconds an ended run stays in the run table (default 7 days). (env GATEWAY_RUN_RETENTION)")
    var runRetention: Double = Environment.double("GATEWAY_RUN_RETENTION", 7 * 24 * 3600)

    @Option(
        name: .customLong("public"),
        help:
            "Folder served at / (the status page); default: Public/ in the install layout beside the binary, or the source tree. (env GATEWAY_PUBLIC)"
    )
    var publicFlag: String?
    var publicDirectory: String? { publicFlag ?? Environment.optionalString("GATEWAY_PUBLIC") }

    @Option(
        name: .customLong("openapi"),
        help:
            "OpenAPI document served at /openapi.json; default: openapi/openapi.json in the install layout beside the binary, or the source tree. (env GATEWAY_OPENAPI)"
    )
    var openAPIFlag: String?
    var openAPIFile: String? { openAPIFlag ?? Environment.optionalString("GATEWAY_OPENAPI") }

    @Option(help: "trace, debug, info, notice, warning, error or critical. (env GATEWAY_LOG_LEVEL)")
    var logLevel: String = Environment.string("GATEWAY_LOG_LEVEL", "info")

    @Option(help: "text (one readable line, key=value) or json (one object a line). (env GATEWAY_LOG_FORMAT)")
    var logFormat: String = Environment.string("GATEWAY_LOG_FORMAT", "text")

    @Option(help: "Largest request body accepted, in bytes; larger gets 413. (env GATEWAY_MAX_BODY_BYTES)")
    var maxBodyBytes: Int = Environment.int("GATEWAY_MAX_BODY_BYTES", 32 * 1024 * 1024)

    @Option(help: "Seconds a client has to send a request's header section; then 408. (env GATEWAY_HEADER_TIMEOUT)")
    var headerTimeout: Double = Environment.double("GATEWAY_HEADER_TIMEOUT", 10)

    @Option(
        help:
            "Seconds a client has to send a whole request body, however steadily; then 408. (env GATEWAY_BODY_TIMEOUT)")
    var bodyTimeout: Double = Environment.double("GATEWAY_BODY_TIMEOUT", 60)

    @Option(help: "Seconds an idle keep-alive connection is kept open. (env GATEWAY_IDLE_TIMEOUT)")
    var idleTimeout: Double = Environment.double("GATEWAY_IDLE_TIMEOUT", 60)

    @Option(help: "Seconds in-flight requests get to finish on shutdown. (env GATEWAY_SHUTDOWN_GRACE)")
    var shutdownGrace: Double = Environment.double("GATEWAY_SHUTDOWN_GRACE", 10)

    @Option(help: "Event-loop threads; 0 means one per core. (env GATEWAY_EVENT_LOOPS)")
    var eventLoops: Int = Environment.int("GATEWAY_EVENT_LOOPS", 0)

    @Option(help: "Most connections open at once. (env GATEWAY_MAX_CONNECTIONS)")
    var maxConnections: Int = Environment.int("GATEWAY_MAX_CONNECTIONS", 16_384)

    @Option(
        name: .customLong("cors-origin"),
        help:
            "Browser origin allowed to read answers cross-origin; repeatable, \"*\" for any. Off by default. (env GATEWAY_CORS_ORIGINS, comma-separated)"
    )
    var corsOrigins: [String] = Environment.list("GATEWAY_CORS_ORIGINS")

    @Option(help: "Most event-stream subscribers at once; beyond, 503. (env GATEWAY_MAX_SUBSCRIBERS)")
    var maxSubscribers: Int = Environment.int("GATEWAY_MAX_SUBSCRIBERS", 20_000)

    @Option(help: "Seconds between heartbeat comments on idle event streams. (env GATEWAY_HEARTBEAT)")
    var heartbeat: Double = Environment.double("GATEWAY_HEARTBEAT", 15)

    @Option(
        help:
            "The destination tag on this gateway's batches; two gateways on one InvokeAI need different ones. (env GATEWAY_DESTINATION)"
    )
    var destination: String = Environment.string("GATEWAY_DESTINATION", "invokeai-gateway")

    @Option(
        name: .customLong("keys-file"),
        help:
            "Keys file (see `invokeai-gateway keys`): every request but /healthz, /readyz, /openapi.json and the status page's files needs a key in it; read again when it changes or on SIGHUP. (env GATEWAY_KEYS_FILE)"
    )
    var keysFileFlag: String?
    var keysFile: String? { keysFileFlag ?? Environment.optionalString("GATEWAY_KEYS_FILE") }

    @Flag(
        help:
            "Serve without keys on an address other than loopback: anyone who reaches the port may do everything. (env GATEWAY_ALLOW_UNAUTHENTICATED=1)"
    )
    var allowUnauthenticated = false

    @Option(
        name: .customLong("allowed-host"),
        help:
            "Host name (or address) requests may be addressed to besides localhost, 127.0.0.1, [::1] and the --host address; repeatable, \"*\" for any (DNS rebinding guard). (env GATEWAY_ALLOWED_HOSTS, comma-separated)"
    )
    var allowedHosts: [String] = Environment.list("GATEWAY_ALLOWED_HOSTS")

    @Option(
        help:
            "Bytes queued for all event-stream subscribers together; beyond, the slowest are disconnected. (env GATEWAY_MAX_EVENT_QUEUE_BYTES)"
    )
    var maxEventQueueBytes: Int = Environment.int("GATEWAY_MAX_EVENT_QUEUE_BYTES", 64 << 20)

    @Option(
        help:
            "Largest workflow definition an upload may have, in bytes; larger gets 413. (env GATEWAY_MAX_WORKFLOW_BYTES)"
    )
    var maxWorkflowBytes: Int = Environment.int("GATEWAY_MAX_WORKFLOW_BYTES", 4 << 20)

    @Option(
        help:
            "Most workflow files in the workflows folder; an upload beyond gets 507. (env GATEWAY_MAX_UPLOADED_WORKFLOWS)"
    )
    var maxUploadedWorkflows: Int = Environment.int("GATEWAY_MAX_UPLOADED_WORKFLOWS", 1_000)

    @Option(
        help:
            "Most bytes of workflow files in the workflows folder together; an upload beyond gets 507. (env GATEWAY_MAX_UPLOADED_WORKFLOW_BYTES)"
    )
    var maxUploadedWorkflowBytes: Int = Environment.int("GATEWAY_MAX_UPLOADED_WORKFLOW_BYTES", 256 << 20)

    /// The InvokeAI sign-in: none without --invokeai-user; with it, a password from the file or
    /// the environment (a flag value would show in `ps` and shell history).
    func invokeAIAuth() throws -> InvokeAIAuth {
        guard let user = invokeAIUser else {
            if invokeAIPasswordFile != nil { throw ValidationError("--invokeai-password-file needs --invokeai-user") }
            return .none
        }
        var password: String
        if let file = invokeAIPasswordFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("cannot read --invokeai-password-file \(file)")
            }
            password = text
            while let last = password.last, last.isNewline { password.removeLast() }
        } else if let fromEnvironment = Environment.optionalString("INVOKEAI_PASSWORD") {
            password = fromEnvironment
        } else {
            throw ValidationError(
                "--invokeai-user needs a password: --invokeai-password-file FILE or the environment variable INVOKEAI_PASSWORD"
            )
        }
        guard !password.isEmpty else { throw ValidationError("the InvokeAI password is empty") }
        return .login(email: user, password: password)
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let format = LogFormat(rawValue: logFormat) ?? .text
        let logWriter = LogWriter.standardError()
        LoggingSystem.bootstrap { label in
            GatewayLogHandler(label: label, format: format, level: level, writer: logWriter)
        }
        defer { logWriter.flush() }
        let logger = Logger(label: "invokeai-gateway")
        // Writes to vanished peers must fail with EPIPE, not kill the process.
        signal(SIGPIPE, SIG_IGN)

        var server = HTTPServerConfiguration(host: host, port: port)
        if eventLoops > 0 { server.eventLoopCount = eventLoops }
        server.limits.maxBodyBytes = maxBodyBytes
        server.headerTimeout = .milliseconds(Int(headerTimeout * 1000))
        server.bodyDeadline = .milliseconds(Int(bodyTimeout * 1000))
        server.idleTimeout = .milliseconds(Int(idleTimeout * 1000))
        server.shutdownGracePeriod = .milliseconds(Int(shutdownGrace * 1000))
        server.maxConnections = maxConnections
        let served = servedFiles(logger: logger)
        var configuration = GatewayConfiguration(
            server: server,
            invokeAIURL: URL(string: invokeAIURL)!,
            workflowsDirectory: workflows,
            publicDirectory: served.publicDirectory,
            openAPIFile: served.openAPIFile
        )
        configuration.invokeAIAuth = try invokeAIAuth()
        configuration.cors = CORSPolicy(allowedOrigins: Set(corsOrigins))
        configuration.destination = destination
        configuration.stateDirectory = stateDir
        configuration.maxWait = maxWait
        configuration.outputTTL = outputTTL > 0 ? outputTTL : nil
        configuration.runs = RunTrackerConfiguration(maxRuns: maxRuns, maxAge: runRetention)
        configuration.events.maxSubscribers = maxSubscribers
        configuration.events.heartbeatInterval = heartbeat
        configuration.events.maxQueuedBytes = maxEventQueueBytes
        configuration.allowedHosts = allowedHosts
        configuration.uploads = WorkflowUploadLimits(
            maxDefinitionBytes: maxWorkflowBytes, maxFiles: maxUploadedWorkflows,
            maxTotalBytes: maxUploadedWorkflowBytes)
        configuration.keysFile = keysFile
        if keysFile == nil, !ServeAddress.isLoopback(host) {
            logger.warning(
                "serving on \(host) without keys (--allow-unauthenticated): anyone who reaches it may do everything")
        }

        let gateway = try GatewayServer(configuration: configuration, logger: logger)
        try gateway.start()
        logger.info("invokeai-gateway on port \(gateway.port), InvokeAI at \(invokeAIURL)")
        // SIGHUP reads the keys file and the workflows folder again now (ReloadSignal says what is not reloaded).
        let reload = ReloadSignal.install(gateway: gateway, logger: logger)
        defer { reload.cancel() }

        await ShutdownSignal.wait(logger: logger)
        await gateway.shutdown()
    }
}
