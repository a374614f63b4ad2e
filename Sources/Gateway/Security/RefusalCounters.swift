import Synchronization

/// Requests the gateway refused for browser safety, for `/metrics`.
final class RefusalCounters: Sendable {
    /// A `Host` it does not answer to (421).
    let host = Atomic<Int>(0)
    /// A mutating request from another site (403).
    let crossSite = Atomic<Int>(0)

    var prometheusText: String {
        """
        # HELP gateway_requests_refused_total Requests refused before routing: an unknown Host (DNS rebinding) or a cross-site mutating request.
        # TYPE gateway_requests_refused_total counter
        gateway_requests_refused_total{reason="host"} \(host.load(ordering: .relaxed))
        gateway_requests_refused_total{reason="cross_site"} \(crossSite.load(ordering: .relaxed))

        """
    }
}
