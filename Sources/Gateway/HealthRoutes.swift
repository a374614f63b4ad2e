import HTTPServer
import InvokeAI
import JSONValue

/// `/healthz`: the process answers. `/readyz`: InvokeAI answers too (503 with its error when not).
enum HealthRoutes {
    static func add(
        to router: inout Router, upstream: InvokeAIClient, eventStream: (@Sendable () -> InvokeAIEventStreamState)?
    ) {
        router.add(
            .GET, "/healthz",
            .sync { _ in
                HTTPResponse(
                    status: .ok, headers: ["Content-Type": "application/json", "Cache-Control": "no-store"],
                    bytes: Array(#"{"status":"ok"}"#.utf8))
            })
        router.add(
            .GET, "/readyz",
            .async { _ in
                let invokeai: JSONValue = ["url": .string(upstream.baseURL.absoluteString)]
                do {
                    let version = try await upstream.appVersion()
                    var body: JSONObject = [
                        "status": "ready", "invokeai": ["url": invokeai["url"]!, "version": .string(version)],
                    ]
                    if let eventStream {
                        let state = eventStream()
                        body["events"] = [
                            "connected": .bool(state.connected), "since": .string(Run.format(state.since)),
                            "reconnects": .int(state.reconnectCount),
                            "last_error": state.lastError.map { .string($0) } ?? .null,
                        ]
                    }
                    return .json(JSONValue.object(body))
                } catch {
                    throw HTTPError(
                        .serviceUnavailable, "InvokeAI is not reachable: \(error)",
                        title: "Upstream not ready", extensions: ["status_text": "not ready", "invokeai": invokeai],
                        headers: ["Retry-After": "5"])
                }
            })
    }
}
