import Foundation
import GatewayTestSupport
import TestSupport
import Testing

@testable import Gateway

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// With InvokeAI down, every route that needs it answers 503 with the cause, and nothing is half-made.
@Suite("InvokeAI down")
struct UpstreamDownTests {
    @Test func routesThatNeedInvokeAIAnswer503WithTheCause() async throws {
        let dead = try GatewayHTTP.deadUpstream()
        try await GatewayHTTP.withGateway(
            invokeAI: dead,
            configure: {
                $0.workflowsDirectory = GatewayHTTP.repositoryRoot.appendingPathComponent("workflows").path
            }
        ) { base, server in
            for (method, path) in [
                ("POST", "v1/workflows/blank-blur/runs"), ("GET", "v1/boards"),
                ("GET", "v1/models"), ("GET", "v1/queue"), ("GET", "v1/images/x.png"),
            ] {
                var request = URLRequest(url: base.appendingPathComponent(path))
                request.httpMethod = method
                if method == "POST" { request.httpBody = Data(#"{"inputs": {"0": 8}}"#.utf8) }
                let (data, response) = try await TestHTTP.data(for: request)
                let http = response
                #expect(http.statusCode == 503, "\(method) \(path)")
                #expect(http.value(forHTTPHeaderField: "Retry-After") == "5")
                let detail =
                    (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["detail"] as? String ?? ""
                #expect(detail.contains("cannot connect to InvokeAI"), "\(method) \(path): \(detail)")
            }
            #expect(server.runs.runs().total == 0)
        }
    }

    /// The workflow files are the gateway's own: listed and described with InvokeAI down, their
    /// runnability unknown (null), never claimed either way.
    @Test func workflowFilesAreListedAndDescribedWithRunnabilityUnknown() async throws {
        let dead = try GatewayHTTP.deadUpstream()
        try await GatewayHTTP.withGateway(
            invokeAI: dead,
            configure: {
                $0.workflowsDirectory = GatewayHTTP.repositoryRoot.appendingPathComponent("workflows").path
            }
        ) { base, _ in
            let (status, list) = try await GatewayHTTP.getJSON(base.appendingPathComponent("v1/workflows"))
            #expect(status == 200)
            let workflows = list["workflows"] as? [[String: Any]] ?? []
            #expect(
                Set(workflows.compactMap { $0["name"] as? String }) == ["blank-blur", "resize-image", "slow-steps"])
            #expect(workflows.allSatisfy { $0["runnable"] is NSNull })
            let (described, detail) = try await GatewayHTTP.getJSON(
                base.appendingPathComponent("v1/workflows/slow-steps"))
            #expect(described == 200)
            #expect(detail["runnable"] is NSNull)
            #expect((detail["runnable_reason"] as? String)?.contains("not reachable") == true)
        }
    }
}
