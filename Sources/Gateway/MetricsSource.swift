import HTTPServer
import InvokeAI
import Synchronization

/// Collects the Prometheus text of every part that keeps counters; parts attach as they are built.
/// Two kinds, deliberately side by side: families with labels made as traffic comes (request,
/// run and upstream-call histograms, build info) are in `GatewayMetrics`' swift-prometheus
/// registry; plain counters that their layer keeps as atomics (HTTPServer, which knows nothing
/// of Prometheus; the hub, the cleaner, the access policy) and the values read at scrape time
/// (the run table, the event stream, /proc) are written here.
final class MetricsSource: Sendable {
    private let server = Mutex<HTTPServerMetrics?>(nil)
    private let tracker: RunTracker
    private let access: AccessPolicy
    private let refusals: RefusalCounters
    private let hub: EventHub
    private let registry: GatewayMetrics
    private let upstreamState: (@Sendable () -> InvokeAIEventStreamState)?

    init(
        tracker: RunTracker, access: AccessPolicy, refusals: RefusalCounters, hub: EventHub, registry: GatewayMetrics,
        upstreamState: (@Sendable () -> InvokeAIEventStreamState)?
    ) {
        self.registry = registry
        self.upstreamState = upstreamState
        self.tracker = tracker
        self.access = access
        self.refusals = refusals
        self.hub = hub
    }

    func attach(_ metrics: HTTPServerMetrics) { server.withLock { $0 = metrics } }

    func render() -> String {
        let counts = tracker.cleaner.counts
        let sources = tracker.outputSources
        let cleanup = """
            # HELP gateway_image_cleanup_total Image deletions upstream by outcome (retried counts each retry).
            # TYPE gateway_image_cleanup_total counter
            gateway_image_cleanup_total{outcome="deleted"} \(counts.deleted)
            gateway_image_cleanup_total{outcome="retried"} \(counts.retried)
            gateway_image_cleanup_total{outcome="failed"} \(counts.failed)
            # HELP gateway_run_outputs_total Ended runs by where their outputs came from: the events watched, or a read-back from InvokeAI.
            # TYPE gateway_run_outputs_total counter
            gateway_run_outputs_total{source="events"} \(sources.events)
            gateway_run_outputs_total{source="read_back"} \(sources.readBack)
            # HELP gateway_run_read_back_failures_total Reads of an ended run's record from InvokeAI that failed (the run is not reported ended until one succeeds).
            # TYPE gateway_run_read_back_failures_total counter
            gateway_run_read_back_failures_total \(tracker.readBackFailureCount)
            # HELP gateway_runs_held Runs in the gateway's run table now (older ones are read from InvokeAI when asked for).
            # TYPE gateway_runs_held gauge
            gateway_runs_held \(tracker.count)

            """
        var labelled: [UInt8] = []
        registry.render(into: &labelled)
        return (server.withLock { $0 }?.prometheusText() ?? "") + cleanup + access.refusals.prometheusText
            + refusals.prometheusText + hub.prometheusText + runsByStatus + upstreamText
            + String(decoding: labelled, as: UTF8.self) + ProcessMetrics.prometheusText
    }

    private var runsByStatus: String {
        let counts = tracker.countsByStatus
        return
            "# HELP gateway_runs Runs in the gateway's run table now, by status (queued and running are the runs in progress).\n"
            + "# TYPE gateway_runs gauge\n"
            + RunStatus.allCases.map { "gateway_runs{status=\"\($0.rawValue)\"} \(counts[$0] ?? 0)\n" }.joined()
    }

    /// Only when the gateway follows InvokeAI's event stream.
    private var upstreamText: String {
        guard let state = upstreamState?() else { return "" }
        return """
            # HELP gateway_upstream_connected Whether InvokeAI's event stream is connected now (1) or not (0).
            # TYPE gateway_upstream_connected gauge
            gateway_upstream_connected \(state.connected ? 1 : 0)
            # HELP gateway_upstream_reconnects_total Connections of InvokeAI's event stream after the first (each follows a loss).
            # TYPE gateway_upstream_reconnects_total counter
            gateway_upstream_reconnects_total \(state.reconnectCount)
            # HELP gateway_upstream_connect_failures_total Connection attempts to InvokeAI's event stream that failed.
            # TYPE gateway_upstream_connect_failures_total counter
            gateway_upstream_connect_failures_total \(state.failedAttempts)

            """
    }
}
