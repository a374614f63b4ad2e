import Foundation
import JSONValue
import Testing
import Workflows

@testable import WorkflowsTestSupport

/// The same comparison over InvokeAI's 26 default workflows (from its library) and the examples,
/// against the schemas of a live InvokeAI.
@Suite(
    "Live: the graph against a plain reference",
    .enabled(if: !LiveEnvironment.skipRequested, LiveEnvironment.skipReason))
struct LiveReferenceGraphTests {
    @Test func theDefaultWorkflowsAndExamplesBuildWhatTheReferenceBuilds() async throws {
        let schemas = InvocationSchemaTable(openAPI: try await LiveDefaultWorkflowsTests.get("/openapi.json"))
        let listing = try await LiveDefaultWorkflowsTests.get("/api/v1/workflows/?categories=default&per_page=100")
        let ids = (listing["items"]?.arrayValue ?? []).compactMap { $0["workflow_id"]?.stringValue }
        #expect(ids.count == 26)
        var coverage = ReferenceComparison.Coverage()
        for id in ids {
            let definition = try #require(
                try await LiveDefaultWorkflowsTests.get("/api/v1/workflows/i/\(id)")["workflow"])
            let name = definition["name"]?.stringValue ?? id
            try ReferenceComparison.check(definition, name, schemas: schemas, coverage: &coverage)
        }
        let examples = try ReferenceComparison.examples()
        for (name, definition) in examples {
            try ReferenceComparison.check(definition, name, schemas: schemas, coverage: &coverage)
        }
        #expect(coverage.workflows == ids.count + examples.count)
        // The defaults store few models (most are inputs without a value): stand-ins are rare there.
        #expect(coverage.givenValues > 200 && coverage.inlineImages > 0 && coverage.runBoards > 5)
        #expect(coverage.standIns > 0)
        print("reference comparison: \(coverage)")
    }
}
