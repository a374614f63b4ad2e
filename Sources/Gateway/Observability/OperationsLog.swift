import Foundation
import HTTPServer
import InvokeAI
import Logging

/// The lines an operator reads: one per answered request (`gateway.access`), one per run
/// transition (`gateway.runs`), and the upstream event stream's connects and losses
/// (`gateway.upstream`). Never a key, a token or a password: only names and ids.
struct OperationsLog: Sendable {
    let access: Logger
    let runs: Logger
    let upstream: Logger
    let metrics: GatewayMetrics
    /// The access logger's handler when it is the gateway's own: lines are made from the
    /// record's fields directly (found once, not cast per request).
    private let accessHandler: GatewayLogHandler?

    init(metrics: GatewayMetrics, base: Logger, factory: (@Sendable (String) -> any LogHandler)?) {
        func make(_ label: String) -> Logger {
            guard let factory else {
                var logger = Logger(label: label)
                logger.logLevel = base.logLevel
                return logger
            }
            return Logger(label: label, factory: factory)
        }
        access = make("gateway.access")
        runs = make("gateway.runs")
        upstream = make("gateway.upstream")
        accessHandler = (access.handler as? GatewayLogHandler).flatMap { $0.takesFieldsAsGiven ? $0 : nil }
        self.metrics = metrics
    }

    // MARK: requests

    /// Refusals an operator should see (limits, keys, hosts): notice; the gateway's own
    /// failure: error; InvokeAI's failures passed on (502/503/504): warning.
    static func level(status: Int) -> Logger.Level {
        switch status {
        case 400, 401, 403, 408, 413, 421, 429, 431: .notice
        case 500: .error
        case 501...: .warning
        default: .info
        }
    }

    func answered(_ record: HTTPAccessRecord) {
        metrics.observe(record)
        let level = Self.level(status: record.status)
        guard access.logLevel <= level else { return }
        let message = "\(record.method) \(record.route) \(record.status)"
        let fields = Self.accessFields(record)
        if let handler = accessHandler {
            handler.write(level: level, message: message, fields: fields)
            return
        }
        let metadata = Logger.Metadata(fields, uniquingKeysWith: { first, _ in first })
        access.log(level: level, "\(message)", metadata: metadata)
    }

    /// The access line's fields, sorted by key as the handler writes them.
    static func accessFields(_ record: HTTPAccessRecord) -> [(key: String, value: Logger.Metadata.Value)] {
        var fields: [(key: String, value: Logger.Metadata.Value)] = []
        fields.reserveCapacity(11)
        fields.append(("bytes", .stringConvertible(record.bytes)))
        fields.append(("duration_ms", .stringConvertible(Milliseconds(nanoseconds: record.durationNanoseconds))))
        fields.append(("method", .string(record.method)))
        fields.append(("protocol", .string(record.version == .http2 ? "h2" : "http/1.1")))
        if let reason = record.reason { fields.append(("reason", .string(reason))) }
        fields.append(("request_id", .string(record.requestID)))
        fields.append(("route", .string(record.route)))
        fields.append(("status", .stringConvertible(record.status)))
        if record.streamed { fields.append(("streamed", .stringConvertible(true))) }
        if let user = record.user { fields.append(("user", .string(user))) }
        return fields
    }

    // MARK: runs

    func transition(_ change: RunTransition) {
        let run = change.run
        if change.to.isTerminal {
            metrics.runEnded(
                workflow: run.workflow, status: change.to, queueWait: change.queueWaitSeconds,
                duration: change.durationSeconds)
        }
        var metadata: Logger.Metadata = [
            "run": "\(run.id)", "workflow": "\(run.workflow)", "tenant": "\(run.owner.isEmpty ? "-" : run.owner)",
            "status": "\(change.to.rawValue)",
        ]
        if let from = change.from { metadata["from"] = "\(from.rawValue)" }
        if let wait = change.queueWaitSeconds { metadata["queue_wait_s"] = .stringConvertible(Self.rounded(wait)) }
        if let duration = change.durationSeconds { metadata["duration_s"] = .stringConvertible(Self.rounded(duration)) }
        if change.to == .failed, let message = run.error?["message"]?.stringValue {
            metadata["error"] = "\(message)"
        }
        runs.log(
            level: change.to == .failed ? .warning : .info, "run \(run.id) \(change.to.rawValue)", metadata: metadata)
    }

    private static func rounded(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }

    // MARK: InvokeAI's event stream

    func streamChanged(_ state: InvokeAIEventStreamState) {
        if state.connected {
            upstream.notice(
                state.reconnectCount == 0 ? "event stream connected" : "event stream reconnected",
                metadata: ["reconnects": .stringConvertible(state.reconnectCount)])
        } else {
            upstream.warning(
                "event stream disconnected",
                metadata: [
                    "reason": "\(state.lastError ?? "unknown")", "reconnects": .stringConvertible(state.reconnectCount),
                ])
        }
    }

    func streamAttemptFailed(reason: String, retryIn seconds: Double) {
        upstream.warning(
            "event stream could not connect",
            metadata: ["reason": "\(reason)", "retry_in_s": .stringConvertible(Self.rounded(seconds))])
    }
}
