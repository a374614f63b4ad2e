import Foundation
import GatewayTestSupport
import TestSupport
import Testing

@testable import Gateway

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Health, readiness and the contract, without InvokeAI", .ownThread)
struct HealthRoutesTests {
    @Test func healthzAnswersWithoutUpstream() async throws {
        try await GatewayHTTP.with(invokeAI: try GatewayHTTP.deadUpstream()) { base in
            let (status, body) = try await GatewayHTTP.getJSON(base.appendingPathComponent("healthz"))
            #expect(status == 200)
            #expect(body["status"] as? String == "ok")
        }
    }

    @Test func readyzIs503WithTheUpstreamErrorWhenInvokeAIIsDown() async throws {
        let dead = try GatewayHTTP.deadUpstream()
        try await GatewayHTTP.with(invokeAI: dead) { base in
            let (data, response) = try await TestHTTP.data(from: base.appendingPathComponent("readyz"))
            let http = response
            #expect(http.statusCode == 503)
            #expect(http.value(forHTTPHeaderField: "Content-Type") == "application/problem+json")
            #expect(http.value(forHTTPHeaderField: "Retry-After") == "5")
            let body = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let detail = try #require(body["detail"] as? String)
            #expect(detail.contains("cannot connect to InvokeAI"))
            #expect(detail.contains("\(dead.port!)"))
        }
    }

    @Test func openAPIDocumentIsServedAndListsTheRoutes() async throws {
        let file = GatewayHTTP.repositoryRoot.appendingPathComponent("openapi/openapi.json").path
        try await GatewayHTTP.with(invokeAI: try GatewayHTTP.deadUpstream(), openAPIFile: file) { base in
            let (status, document) = try await GatewayHTTP.getJSON(base.appendingPathComponent("openapi.json"))
            #expect(status == 200)
            #expect((document["openapi"] as? String)?.hasPrefix("3.") == true)
            let paths = try #require(document["paths"] as? [String: Any])
            // Every route the server has is in the contract, and the other way round ("/" is the
            // static files, served when no route matches).
            var documented = Set<String>()
            for (path, item) in paths where path != "/" {
                for method in (item as? [String: Any])?.keys ?? [:].keys
                where ["get", "put", "post", "delete", "patch"].contains(method) {
                    documented.insert("\(method.uppercased()) \(path)")
                }
            }
            let server = try GatewayServer(
                configuration: GatewayConfiguration(
                    invokeAIURL: try GatewayHTTP.deadUpstream(), openAPIFile: file, followsUpstreamEvents: false))
            #expect(Set(server.routeList) == documented)
            #expect(paths["/"] != nil)
            // Templated paths ({name}, {id}) are exercised by their own tests with real values.
            for (path, item) in paths where path != "/" && !path.contains("{") {
                guard let get = (item as? [String: Any])?["get"] as? [String: Any] else { continue }
                let ok = ((get["responses"] as? [String: Any])?["200"] as? [String: Any])?["content"] as? [String: Any]
                let code: Int
                if ok?["text/event-stream"] != nil {
                    // An open-ended stream: read its head only.
                    let port = base.port!
                    code = try await blocking { try SSETestClient(port: port, target: path).status }
                } else {
                    let (_, response) = try await TestHTTP.data(from: base.appendingPathComponent(path))
                    code = response.statusCode
                }
                #expect(code != 404 && code != 405, "\(path) is in the contract but not served (\(code))")
            }
        }
    }

    @Test func metricsCountRequests() async throws {
        try await GatewayHTTP.with(invokeAI: try GatewayHTTP.deadUpstream()) { base in
            _ = try await TestHTTP.data(from: base.appendingPathComponent("healthz"))
            let (data, _) = try await TestHTTP.data(from: base.appendingPathComponent("metrics"))
            let text = String(decoding: data, as: UTF8.self)
            #expect(text.contains("# TYPE gateway_http_requests_total counter"))
            let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("gateway_http_requests_total ") })
            #expect((Int(line.split(separator: " ")[1]) ?? 0) >= 1)
        }
    }

    @Test func statusPageIsServed() async throws {
        let publicDirectory = GatewayHTTP.repositoryRoot.appendingPathComponent("Public").path
        try await GatewayHTTP.with(invokeAI: try GatewayHTTP.deadUpstream(), publicDirectory: publicDirectory) { base in
            let (data, response) = try await TestHTTP.data(from: base)
            #expect(response.statusCode == 200)
            #expect(String(decoding: data, as: UTF8.self).contains("<title>invokeai-gateway</title>"))
        }
    }
}
