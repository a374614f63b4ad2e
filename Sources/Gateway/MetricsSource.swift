import HTTPServer
import Synchronization

/// Collects the Prometheus text of every part that keeps counters; parts attach as they are built.
final class MetricsSource: Sendable {
    private let server = Mutex<HTTPServerMetrics?>(nil)
    private let cleaner: ImageCleaner

    init(cleaner: ImageCleaner) { self.cleaner = cleaner }

    func attach(_ metrics: HTTPServerMetrics) { server.withLock { $0 = metrics } }

    func render() -> String {
        let counts = cleaner.counts
        let cleanup = """
        # HELP gateway_image_cleanup_total Image deletions upstream by outcome (retried counts each retry).
        # TYPE gateway_image_cleanup_total counter
        gateway_image_cleanup_total{outcome="deleted"} \(counts.deleted)
        gateway_image_cleanup_total{outcome="retried"} \(counts.retried)
        gateway_image_cleanup_total{outcome="failed"} \(counts.failed)

        """
        return (server.withLock { $0 }?.prometheusText() ?? "") + cleanup
    }
}
