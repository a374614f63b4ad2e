import Foundation
import GatewayTestSupport
import TestSupport
import Testing

@testable import Gateway

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Live: the harness's InvokeAI", .enabled(if: !LiveEnvironment.skipRequested, LiveEnvironment.skipReason))
struct LiveSmokeTests {
    @Test func readyzReportsThePinnedInvokeAIVersion() async throws {
        let upstream = try LiveEnvironment.invokeAIURL()
        try await GatewayHTTP.with(invokeAI: upstream) { base in
            let (status, body) = try await GatewayHTTP.getJSON(base.appendingPathComponent("readyz"))
            #expect(status == 200)
            #expect(body["status"] as? String == "ready")
            let invokeai = try #require(body["invokeai"] as? [String: Any])
            #expect(invokeai["version"] as? String == "6.14.2")
        }
    }

    @Test func tinyModelIsListedAsSD1Main() async throws {
        let upstream = try LiveEnvironment.invokeAIURL()
        let (data, _) = try await TestHTTP.data(from: upstream.appendingPathComponent("api/v2/models/"))
        let body = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let models = try #require(body["models"] as? [[String: Any]])
        let tiny = models.filter { ($0["base"] as? String) == "sd-1" && ($0["type"] as? String) == "main" }
        #expect(!tiny.isEmpty, "no sd-1 main model among \(models.map { $0["name"] ?? "?" })")
    }
}
