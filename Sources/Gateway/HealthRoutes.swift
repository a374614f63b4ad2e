import HTTPServer
import InvokeAI
import JSONValue

/// `/healthz`: the process answers. `/readyz`: InvokeAI answers too (503 with its error when not).
enum HealthRoutes {
    static func add(to router: inout Router, upstream: InvokeAIClient) {
        router.add(.GET, "/healthz", .sync { _ in
            HTTPResponse(status: .ok, headers: ["Content-Type": "application/json", "Cache-Control": "no-store"],
                         bytes: Array(#"{"status":"ok"}"#.utf8))
        })
        router.add(.GET, "/readyz", .async { _ in
            let invokeai: JSONValue = ["url": .string(upstream.baseURL.absoluteString)]
            do {
                let version = try await upstream.appVersion()
                return .json(["status": "ready", "invokeai": ["url": invokeai["url"]!, "version": .string(version)]] as JSONValue)
            } catch {
                throw HTTPError(.serviceUnavailable, "InvokeAI is not reachable: \(error)",
                                title: "Upstream not ready", extensions: ["status_text": "not ready", "invokeai": invokeai],
                                headers: ["Retry-After": "5"])
            }
        })
    }
}
