import HTTPServer
import Synchronization

/// Collects the Prometheus text of every part that keeps counters; parts attach as they are built.
final class MetricsSource: Sendable {
    private let server = Mutex<HTTPServerMetrics?>(nil)

    func attach(_ metrics: HTTPServerMetrics) { server.withLock { $0 = metrics } }

    func render() -> String {
        server.withLock { $0 }?.prometheusText() ?? ""
    }
}
