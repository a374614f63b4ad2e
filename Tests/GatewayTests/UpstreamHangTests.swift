import Foundation
import GatewayTestSupport
import TestSupport
import Testing

@testable import Gateway

/// InvokeAI accepts connections and never answers: every call ends within its bound, retries
/// included, and the readiness probe answers within its own short one.
@Suite("InvokeAI hangs")
struct UpstreamHangTests {
    @Test(.timeLimit(.minutes(1))) func readinessAnswersWithinItsOwnBound() async throws {
        let silent = try SilentPort()
        try await GatewayHTTP.withGateway(
            invokeAI: URL(string: "http://127.0.0.1:\(silent.port)")!,
            configure: {
                $0.upstreamTimeout = 10
                $0.followsUpstreamEvents = false
            }
        ) { base, _ in
            let start = ContinuousClock.now
            let response = try await TestHTTP.send("GET", base.appendingPathComponent("readyz"))
            let elapsed = ContinuousClock.now - start
            #expect(response.status == 503)
            #expect(elapsed < .seconds(3), "took \(elapsed)")
        }
    }

    @Test(.timeLimit(.minutes(1))) func aSubmissionEndsWithinItsCallsBounds() async throws {
        let silent = try SilentPort()
        try await GatewayHTTP.withGateway(
            invokeAI: URL(string: "http://127.0.0.1:\(silent.port)")!,
            configure: {
                $0.upstreamTimeout = 1
                $0.followsUpstreamEvents = false
                $0.workflowsDirectory = GatewayHTTP.repositoryRoot.appendingPathComponent("workflows").path
            }
        ) { base, _ in
            let start = ContinuousClock.now
            let response = try await TestHTTP.send(
                "POST", base.appendingPathComponent("v1/workflows/blank-blur/runs"), jsonText: #"{"inputs":{}}"#)
            let elapsed = ContinuousClock.now - start
            #expect(response.status == 504)
            // Each call to InvokeAI it makes (schemas, library) ends within the 1 s bound, retries
            // included: three retried attempts of each would take over 6 s.
            #expect(elapsed < .seconds(4), "took \(elapsed)")
        }
    }
}
