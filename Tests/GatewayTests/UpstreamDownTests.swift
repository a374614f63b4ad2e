import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport
@testable import Gateway

/// With InvokeAI down, every route that needs it answers 503 with the cause, and nothing is half-made.
@Suite("InvokeAI down")
struct UpstreamDownTests {
    @Test func routesThatNeedInvokeAIAnswer503WithTheCause() async throws {
        let dead = try GatewayHTTP.deadUpstream()
        try await GatewayHTTP.withGateway(invokeAI: dead, configure: {
            $0.workflowsDirectory = GatewayHTTP.repositoryRoot.appendingPathComponent("workflows").path
        }) { base, server in
            for (method, path) in [("GET", "v1/workflows"), ("POST", "v1/workflows/blank-blur/runs"), ("GET", "v1/boards"),
                                   ("GET", "v1/models"), ("GET", "v1/queue"), ("GET", "v1/images/x.png")] {
                var request = URLRequest(url: base.appendingPathComponent(path))
                request.httpMethod = method
                if method == "POST" { request.httpBody = Data(#"{"inputs": {"0": 8}}"#.utf8) }
                let (data, response) = try await TestHTTP.data(for: request)
                let http = response
                #expect(http.statusCode == 503, "\(method) \(path)")
                #expect(http.value(forHTTPHeaderField: "Retry-After") == "5")
                let detail = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["detail"] as? String ?? ""
                #expect(detail.contains("cannot connect to InvokeAI"), "\(method) \(path): \(detail)")
            }
            #expect(server.runs.runs().isEmpty)
        }
    }
}
