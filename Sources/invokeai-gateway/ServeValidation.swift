import ArgumentParser
import Foundation
import Gateway
import Logging

/// The checks `serve` makes before anything starts. Every problem is named at once, by its flag
/// and its environment variable, and refuses the start with exit 64 (ArgumentParser's
/// ValidationError, EX_USAGE), as a flag it cannot parse does.
extension ServeCommand {
    /// Longest duration an option takes, in seconds (about 31 years): the timeouts are converted
    /// to milliseconds in an Int, which a larger value would overflow.
    static let maxSeconds = 1e9

    func validate() throws {
        // Read before the problems are collected: an unreadable value is one of them.
        let unauthenticatedAllowed = allowUnauthenticated || Environment.flag("GATEWAY_ALLOW_UNAUTHENTICATED")
        var problems = Environment.problems
        func check(_ holds: Bool, _ message: @autoclosure () -> String) {
            if !holds { problems.append(message()) }
        }
        if keysFile == nil, !unauthenticatedAllowed, !ServeAddress.isLoopback(host) {
            problems.append(
                "refusing to serve on \(host) without keys: anyone who reaches it could run workflows and read and delete images. Give --keys-file FILE (make one with `invokeai-gateway keys add --keys-file FILE --name NAME --scopes read,run,admin`), listen on 127.0.0.1, or say --allow-unauthenticated"
            )
        }
        check((0...65535).contains(port), "--port (GATEWAY_PORT) must be 0...65535, got \(port)")
        check(
            Logger.Level(rawValue: logLevel) != nil,
            "--log-level (GATEWAY_LOG_LEVEL) must be trace, debug, info, notice, warning, error or critical, got '\(logLevel)'"
        )
        check(
            LogFormat(rawValue: logFormat) != nil,
            "--log-format (GATEWAY_LOG_FORMAT) must be text or json, got '\(logFormat)'")
        let url = URL(string: invokeAIURL)
        check(
            url?.scheme == "http" && url?.host != nil,
            "--invokeai (INVOKEAI_URL) must be a plain http:// URL (InvokeAI on this machine or a trusted network; no TLS), got '\(invokeAIURL)'"
        )
        do { _ = try invokeAIAuth() } catch { problems.append("\(error)") }

        let counts: [(String, String, Int, Int)] = [
            ("--max-body-bytes", "GATEWAY_MAX_BODY_BYTES", maxBodyBytes, 1),
            ("--max-subscribers", "GATEWAY_MAX_SUBSCRIBERS", maxSubscribers, 1),
            ("--max-event-queue-bytes", "GATEWAY_MAX_EVENT_QUEUE_BYTES", maxEventQueueBytes, 1),
            ("--max-workflow-bytes", "GATEWAY_MAX_WORKFLOW_BYTES", maxWorkflowBytes, 1),
            ("--max-uploaded-workflows", "GATEWAY_MAX_UPLOADED_WORKFLOWS", maxUploadedWorkflows, 1),
            ("--max-uploaded-workflow-bytes", "GATEWAY_MAX_UPLOADED_WORKFLOW_BYTES", maxUploadedWorkflowBytes, 1),
            ("--max-connections", "GATEWAY_MAX_CONNECTIONS", maxConnections, 1),
            ("--max-runs", "GATEWAY_MAX_RUNS", maxRuns, 0),
            ("--event-loops", "GATEWAY_EVENT_LOOPS", eventLoops, 0),
        ]
        for (flag, variable, value, least) in counts {
            check(value >= least, "\(flag) (\(variable)) must be at least \(least), got \(value)")
        }
        // (flag, variable, value, whether 0 is allowed)
        let durations: [(String, String, Double, Bool)] = [
            ("--header-timeout", "GATEWAY_HEADER_TIMEOUT", headerTimeout, false),
            ("--body-timeout", "GATEWAY_BODY_TIMEOUT", bodyTimeout, false),
            ("--idle-timeout", "GATEWAY_IDLE_TIMEOUT", idleTimeout, false),
            ("--heartbeat", "GATEWAY_HEARTBEAT", heartbeat, false),
            ("--shutdown-grace", "GATEWAY_SHUTDOWN_GRACE", shutdownGrace, true),
            ("--max-wait", "GATEWAY_MAX_WAIT", maxWait, true),
            ("--output-ttl", "GATEWAY_OUTPUT_TTL", outputTTL, true),
            ("--run-retention", "GATEWAY_RUN_RETENTION", runRetention, true),
        ]
        for (flag, variable, value, zeroAllowed) in durations {
            let low = zeroAllowed ? value >= 0 : value > 0
            check(
                value.isFinite && low && value <= Self.maxSeconds,
                "\(flag) (\(variable)) must be \(zeroAllowed ? "0" : "more than 0") to \(Int(Self.maxSeconds)) seconds, got \(value)"
            )
        }
        // Named explicitly: a missing one is a mistake to report, not a page to quietly leave out.
        if let folder = publicDirectory {
            check(InstallLayout.isDirectory(folder), "--public (GATEWAY_PUBLIC): no folder at \(folder)")
        }
        if let file = openAPIFile {
            check(InstallLayout.isFile(file), "--openapi (GATEWAY_OPENAPI): no file at \(file)")
        }
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "\n")) }
    }

    /// The status page's folder and the OpenAPI document: as named (validate checked they exist),
    /// else from the install layout or source tree (InstallLayout), else none (404), saying which.
    func servedFiles(logger: Logger) -> (publicDirectory: String?, openAPIFile: String?) {
        guard publicDirectory == nil || openAPIFile == nil else {
            logger.info("status page from \(publicDirectory!), OpenAPI document from \(openAPIFile!) (as given)")
            return (publicDirectory, openAPIFile)
        }
        let executable = InstallLayout.currentExecutable()
        let found = InstallLayout.find(
            executable: executable, workingDirectory: FileManager.default.currentDirectoryPath)
        let served = (publicDirectory ?? found?.publicDirectory, openAPIFile ?? found?.openAPIFile)
        if let found {
            logger.info(
                "status page from \(served.0!), OpenAPI document from \(served.1!) (\(found.origin.rawValue): \(found.root))"
            )
        } else {
            logger.warning(
                "no \(InstallLayout.sharePath)/ beside \(executable) and no source tree found: give --public and --openapi; without them / and /openapi.json answer 404"
            )
        }
        return served
    }
}
