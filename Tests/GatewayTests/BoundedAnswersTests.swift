import Foundation
import GatewayTestSupport
import JSONValue
import TestSupport
import Testing

@testable import Gateway

/// Answers and uploads stay bounded whatever the request holds.
@Suite("Bounded answers", .ownThread)
struct BoundedAnswersTests {
    @Test func a422ListsAtMostItsBoundAndCountsTheRest() {
        let errors: [JSONValue] = (0..<150).map { ["input": .string("k\($0)"), "message": "no such input"] }
        let refusal = RunPreparation.refusal(errors, omitted: 1_000, workflow: "w")
        #expect(refusal.status == .unprocessableContent)
        #expect(refusal.extensions["errors"]?.arrayValue?.count == RunPreparation.maxErrors)
        #expect(refusal.extensions["errors_omitted"] == .int(1_150 - RunPreparation.maxErrors))
        #expect(refusal.detail.hasPrefix("1150 problems with this run of workflow w"))
    }

    @Test func aDefinitionOverItsSizeLimitIsRefusedWith413() async throws {
        try await GatewayHTTP.withGateway(
            invokeAI: try GatewayHTTP.deadUpstream(),
            configure: {
                $0.uploads.maxDefinitionBytes = 1_000
                $0.workflowsDirectory =
                    FileManager.default.temporaryDirectory
                    .appendingPathComponent("uploads-\(UUID().uuidString)").path
            }
        ) { base, _ in
            let big = #"{"pad":""# + String(repeating: "x", count: 1_000) + #""}"#
            let response = try await TestHTTP.send(
                "PUT", base.appendingPathComponent("v1/workflows/big/definition"), jsonText: big)
            #expect(response.status == 413)
            #expect(response.text.contains("at most 1000 bytes"))
        }
    }
}
