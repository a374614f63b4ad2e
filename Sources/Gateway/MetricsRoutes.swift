import HTTPServer

/// `/metrics` in Prometheus text format.
enum MetricsRoutes {
    static func add(to router: inout Router, metrics: @escaping @Sendable () -> String) {
        router.add(
            .GET, "/metrics",
            .sync { _ in
                HTTPResponse(
                    status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                    bytes: Array(metrics().utf8))
            })
    }
}
