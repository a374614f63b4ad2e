import HTTPServer
import Synchronization

/// Collects the Prometheus text of every part that keeps counters; parts attach as they are built.
final class MetricsSource: Sendable {
    private let server = Mutex<HTTPServerMetrics?>(nil)
    private let tracker: RunTracker
    private let access: AccessPolicy
    private let refusals: RefusalCounters
    private let hub: EventHub

    init(tracker: RunTracker, access: AccessPolicy, refusals: RefusalCounters, hub: EventHub) {
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
        return (server.withLock { $0 }?.prometheusText() ?? "") + cleanup + access.refusals.prometheusText
            + refusals.prometheusText + hub.prometheusText
    }
}
