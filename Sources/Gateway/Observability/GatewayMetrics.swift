import HTTPServer
import InvokeAI
import Prometheus
import Synchronization

/// The families that need labels and histograms, kept in a swift-prometheus registry of this
/// gateway's own (not swift-metrics' process-wide `MetricsSystem`, which can be bootstrapped once
/// per process: tests run many gateways in one). Handles are made once per label set and cached
/// here, so a request costs one dictionary look-up and the histogram's own update.
final class GatewayMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let requestHandles = Mutex<[RequestKey: DurationHistogram]>([:])
    private let upstreamHandles = Mutex<[String: DurationHistogram]>([:])
    private let runHandles = Mutex<[RunKey: RunHandles]>([:])

    struct RequestKey: Hashable {
        let route: String
        let method: String
        let statusClass: Int
    }

    struct RunKey: Hashable {
        let workflow: String
        let status: String
    }

    struct RunHandles {
        let ended: Counter
        let duration: DurationHistogram
        let queueWait: DurationHistogram
    }

    static let requestBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
        .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120),
    ]
    static let runBuckets: [Duration] = [
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        .seconds(10), .seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600), .seconds(1800),
        .seconds(3600),
    ]
    /// Methods named as such; any other becomes `other` (the label set stays bounded).
    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

    init() {
        let buildInfo = registry.makeGauge(
            descriptor: Self.name("build", "info", "The running build: 1, labelled with its version and commit."),
            labels: [("version", BuildInfo.version), ("commit", BuildInfo.commit)])
        buildInfo.set(to: 1)
    }

    /// One answered request (the access observer's record).
    func observe(_ record: HTTPAccessRecord) {
        let key = RequestKey(
            route: record.route, method: Self.knownMethods.contains(record.method) ? record.method : "other",
            statusClass: record.status / 100)
        let histogram =
            requestHandles.withLock { $0[key] }
            ?? requestHandles.withLock { handles in
                if let made = handles[key] { return made }
                let made = registry.makeDurationHistogram(
                    descriptor: Self.name(
                        "http_request_duration", "seconds",
                        "Time from a request decoded in full to its response queued (a streamed body: to its end), by route template, method and status class."
                    ),
                    labels: [("route", key.route), ("method", key.method), ("status_class", "\(key.statusClass)xx")],
                    buckets: Self.requestBuckets)
                handles[key] = made
                return made
            }
        histogram.recordNanoseconds(Int64(clamping: record.durationNanoseconds))
    }

    /// One REST call to InvokeAI.
    func observe(_ call: InvokeAICall) {
        let key = call.endpoint + (call.succeeded ? " ok" : " error")
        let histogram =
            upstreamHandles.withLock { $0[key] }
            ?? upstreamHandles.withLock { handles in
                if let made = handles[key] { return made }
                let made = registry.makeDurationHistogram(
                    descriptor: Self.name(
                        "upstream_request_duration", "seconds",
                        "InvokeAI REST calls, retries and their pauses included, by endpoint template and outcome (ok, or error: no answer or not 2xx)."
                    ),
                    labels: [("endpoint", call.endpoint), ("outcome", call.succeeded ? "ok" : "error")],
                    buckets: Self.requestBuckets)
                handles[key] = made
                return made
            }
        histogram.record(Duration.seconds(call.seconds))
    }

    /// A run ended: counted, and its durations from InvokeAI's own timestamps, where its record has them.
    func runEnded(workflow: String, status: RunStatus, queueWait: Double?, duration: Double?) {
        let key = RunKey(workflow: workflow, status: status.rawValue)
        let handles = runHandles.withLock { handles in
            if let made = handles[key] { return made }
            let labels = [("workflow", workflow), ("status", status.rawValue)]
            let made = RunHandles(
                ended: registry.makeCounter(
                    descriptor: Self.name(
                        "runs_ended", "total",
                        "Runs that ended (confirmed against InvokeAI's record), by workflow and final status."),
                    labels: labels),
                duration: registry.makeDurationHistogram(
                    descriptor: Self.name(
                        "run_duration", "seconds",
                        "Ended runs from their first item's start to their last item's completion, as InvokeAI's queue records them."
                    ),
                    labels: labels, buckets: Self.runBuckets),
                queueWait: registry.makeDurationHistogram(
                    descriptor: Self.name(
                        "run_queue_wait", "seconds",
                        "Ended runs from their enqueueing to their first item's start, as InvokeAI's queue records them."
                    ),
                    labels: labels, buckets: Self.runBuckets))
            handles[key] = made
            return made
        }
        handles.ended.increment()
        if let duration { handles.duration.record(Duration.seconds(max(0, duration))) }
        if let queueWait { handles.queueWait.record(Duration.seconds(max(0, queueWait))) }
    }

    func render(into out: inout [UInt8]) { registry.emit(into: &out) }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "gateway", metricName: metric, unitName: unit, helpText: help)
    }
}
