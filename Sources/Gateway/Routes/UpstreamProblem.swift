import HTTPServer
import InvokeAI
import JSONValue

/// InvokeAI's failures as the gateway's answers: cannot connect → 503, timed out → 504,
/// InvokeAI answered an error → 502 with its status and detail.
enum UpstreamProblem {
    /// The router's error hook: InvokeAI's failures, wherever a route lets them through.
    static func mapped(_ error: any Error) -> HTTPError? {
        error is InvokeAIError ? from(error) : nil
    }

    static func from(_ error: any Error) -> HTTPError {
        guard let error = error as? InvokeAIError else {
            return HTTPError(.badGateway, "InvokeAI call failed: \(error)", type: .upstreamError)
        }
        switch error {
        case .cannotConnect:
            return HTTPError(
                .serviceUnavailable, "\(error)", type: .upstreamUnavailable, headers: ["Retry-After": "5"])
        case .timedOut:
            return HTTPError(.gatewayTimeout, "\(error)", type: .upstreamTimeout)
        case .ambiguousEnqueue(let batchId, _):
            // The run may exist: say which, so the client can look instead of submitting again.
            return HTTPError(
                .gatewayTimeout,
                "\(error). It may run: GET /v1/runs/\(batchId) tells once InvokeAI answers, and a retry with the same Idempotency-Key never enqueues it twice",
                type: .upstreamOutcomeUnknown, extensions: ["run": .string(batchId)])
        case .status(let code, _, let detail):
            return HTTPError(
                .badGateway, "\(error)", type: .upstreamError,
                extensions: ["upstream_status": .int(code), "upstream_detail": detail ?? .null])
        default:
            return HTTPError(.badGateway, "\(error)", type: .upstreamError)
        }
    }

    /// InvokeAI refused something the client named (a board, a filter value): 422, with
    /// InvokeAI's own detail kept for the client.
    static func refused(_ message: String, _ error: InvokeAIError) -> HTTPError {
        HTTPError(
            .unprocessableContent, message, type: .upstreamRefused,
            extensions: ["upstream_detail": error.detail ?? .null])
    }
}
