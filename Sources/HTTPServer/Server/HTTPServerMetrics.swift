import HTTPCore
import Synchronization

/// Counters the server keeps for `/metrics`. Every limit that is hit is counted here.
public final class HTTPServerMetrics: Sendable {
    public let connectionsAccepted = Atomic<Int>(0)
    public let connectionsOpen = Atomic<Int>(0)
    /// Closed at once because `maxConnections` were open, or accept() ran out of descriptors.
    public let connectionsRejected = Atomic<Int>(0)
    public let requests = Atomic<Int>(0)
    public let responses1xx2xx3xx = Atomic<Int>(0)
    public let responses4xx = Atomic<Int>(0)
    public let responses5xx = Atomic<Int>(0)
    /// 400: malformed requests.
    public let malformedRequests = Atomic<Int>(0)
    /// 431: request line + headers over the limit.
    public let headersTooLarge = Atomic<Int>(0)
    /// 413: bodies over the limit.
    public let bodiesTooLarge = Atomic<Int>(0)
    /// 408: header section or body not received in time.
    public let requestTimeouts = Atomic<Int>(0)
    public let idleTimeouts = Atomic<Int>(0)
    /// Clients that stopped reading for longer than the write timeout.
    public let writeTimeouts = Atomic<Int>(0)
    public let streamsOpen = Atomic<Int>(0)

    public init() {}

    func countResponse(_ status: HTTPStatus) {
        switch status.code {
        case ..<400: responses1xx2xx3xx.add(1, ordering: .relaxed)
        case 400..<500: responses4xx.add(1, ordering: .relaxed)
        default: responses5xx.add(1, ordering: .relaxed)
        }
    }

    func countParseError(_ error: HTTPParseError) {
        switch error.kind {
        case .headersTooLarge: headersTooLarge.add(1, ordering: .relaxed)
        case .contentTooLarge: bodiesTooLarge.add(1, ordering: .relaxed)
        case .badRequest, .notImplemented, .versionNotSupported: malformedRequests.add(1, ordering: .relaxed)
        }
    }

    /// The counters in Prometheus text exposition format.
    public func prometheusText(prefix: String = "gateway_http") -> String {
        func line(_ name: String, _ type: String, _ help: String, _ value: Int) -> String {
            "# HELP \(prefix)_\(name) \(help)\n# TYPE \(prefix)_\(name) \(type)\n\(prefix)_\(name) \(value)\n"
        }
        let rows: [String] = [
            line(
                "connections_accepted_total", "counter", "Connections accepted.",
                connectionsAccepted.load(ordering: .relaxed)),
            line("connections_open", "gauge", "Connections open now.", connectionsOpen.load(ordering: .relaxed)),
            line(
                "connections_rejected_total", "counter", "Connections closed at once: too many open.",
                connectionsRejected.load(ordering: .relaxed)),
            line("requests_total", "counter", "Requests decoded.", requests.load(ordering: .relaxed)),
            "# HELP \(prefix)_responses_total Responses sent, by status class.\n# TYPE \(prefix)_responses_total counter\n"
                + "\(prefix)_responses_total{class=\"1xx-3xx\"} \(responses1xx2xx3xx.load(ordering: .relaxed))\n"
                + "\(prefix)_responses_total{class=\"4xx\"} \(responses4xx.load(ordering: .relaxed))\n"
                + "\(prefix)_responses_total{class=\"5xx\"} \(responses5xx.load(ordering: .relaxed))\n",
            line(
                "malformed_requests_total", "counter", "Requests refused as malformed (400, 501, 505).",
                malformedRequests.load(ordering: .relaxed)),
            line(
                "headers_too_large_total", "counter", "Requests refused with 431.",
                headersTooLarge.load(ordering: .relaxed)),
            line(
                "bodies_too_large_total", "counter", "Requests refused with 413.",
                bodiesTooLarge.load(ordering: .relaxed)),
            line(
                "request_timeouts_total", "counter", "Requests not received in time (408).",
                requestTimeouts.load(ordering: .relaxed)),
            line(
                "idle_timeouts_total", "counter", "Keep-alive connections closed for idleness.",
                idleTimeouts.load(ordering: .relaxed)),
            line(
                "write_timeouts_total", "counter", "Clients dropped for not reading.",
                writeTimeouts.load(ordering: .relaxed)),
            line("streams_open", "gauge", "Streamed responses in progress.", streamsOpen.load(ordering: .relaxed)),
        ]
        return rows.joined()
    }
}
