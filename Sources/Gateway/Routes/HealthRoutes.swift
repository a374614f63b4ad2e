import Digests
import Foundation
import HTTPCore
import HTTPServer
import InvokeAI
import JSONValue

/// `/healthz`: the process answers. `/readyz`: InvokeAI answers too (503 with its error when not),
/// within `readinessTimeout` seconds.
enum HealthRoutes {
    static let readinessTimeout = 2.0

    static func add(
        to router: inout AccessRouter, upstream: InvokeAIClient,
        eventStream: (@Sendable () -> InvokeAIEventStreamState)?
    ) {
        router.add(
            .GET, "/healthz",
            .sync { _, _ in
                HTTPResponse(
                    status: .ok, headers: ["Content-Type": "application/json", "Cache-Control": "no-store"],
                    bytes: Array(#"{"status":"ok"}"#.utf8))
            })
        router.add(
            .GET, "/readyz",
            .async { _, _ in
                let invokeai: JSONValue = ["url": .string(upstream.baseURL.absoluteString)]
                do {
                    // Its own short bound: a probe must answer soon, whatever InvokeAI does.
                    let version = try await upstream.appVersion(timeout: readinessTimeout)
                    // A multi-user InvokeAI tells its version to anyone: ready means the
                    // gateway's credentials are accepted too.
                    if upstream.configuration.auth != .none { _ = try await upstream.queueStatus() }
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
                        type: .notReady, extensions: ["status_text": "not ready", "invokeai": invokeai],
                        headers: ["Retry-After": "5"])
                }
            })
    }
}

/// `/metrics` in Prometheus text format.
enum MetricsRoutes {
    static func add(to router: inout AccessRouter, metrics: @escaping @Sendable () -> String) {
        router.add(
            .GET, "/metrics",
            .sync { _, _ in
                HTTPResponse(
                    status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                    bytes: Array(metrics().utf8))
            })
    }
}

/// `/openapi.json`: the API contract, read from openapi/ at start-up.
enum OpenAPIRoutes {
    static func add(to router: inout AccessRouter, documentPath: String?) throws {
        guard let documentPath else { return }
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: documentPath)))
        // The document changes only with the binary: its digest validates a kept copy.
        let etag = "\"" + String(SHA256.hex(bytes).prefix(32)) + "\""
        router.add(
            .GET, "/openapi.json",
            .sync { request, _ in
                let headers: HTTPHeaders = ["ETag": etag, "Cache-Control": "no-cache"]
                if let match = request.headers["If-None-Match"], StaticFiles.matches(match, etag: etag) {
                    return HTTPResponse(status: .notModified, headers: headers)
                }
                var response = HTTPResponse(status: .ok, headers: headers, bytes: bytes)
                response.headers["Content-Type"] = "application/json"
                return response
            })
    }
}
