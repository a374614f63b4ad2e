import Foundation
import GatewayTestSupport
import TestSupport
import Testing

@testable import Gateway

/// InvokeAI accepts connections and never answers: every call ends within its bound, retries
/// included, and the readiness probe answers within its own short one.
@Suite("InvokeAI hangs", .ownThread)
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
            // The bound shows in the answer (no timing assertion: a loaded machine may be slow).
            let response = try await TestHTTP.send("GET", base.appendingPathComponent("readyz"))
            #expect(response.status == 503)
            #expect(response.text.contains("within 2.0 s"), "\(response.text)")
        }
    }

    @Test(.timeLimit(.minutes(1))) func aSubmissionEndsWithinItsCallsBounds() async throws {
        let silent = try SilentPort()
        try await GatewayHTTP.withGateway(
            invokeAI: URL(string: "http://127.0.0.1:\(silent.port)")!,
            configure: {
                $0.upstreamTimeout = 1
                $0.upstreamSchemaTimeout = 1
                $0.followsUpstreamEvents = false
                $0.workflowsDirectory = GatewayHTTP.repositoryRoot.appendingPathComponent("workflows").path
            }
        ) { base, _ in
            let response = try await TestHTTP.send(
                "POST", base.appendingPathComponent("v1/workflows/blank-blur/runs"), jsonText: #"{"inputs":{}}"#)
            #expect(response.status == 504)
            // The call to InvokeAI ends at its 1 s bound, retries included (the answer names the
            // bound, not an attempt's).
            #expect(response.text.contains("within 1.0 s"), "\(response.text)")
        }
    }
}
