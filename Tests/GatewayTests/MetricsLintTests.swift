import Foundation
import GatewayTestSupport
import HTTPServer
import InvokeAI
import TestSupport
import Testing

@testable import Gateway

/// `/metrics` passes `promtool check metrics` (Debian's `prometheus` package; scripts/test
/// installs it): the whole document after some traffic, and every labelled family filled in.
@Suite(.ownThread) struct MetricsLintTests {
    static let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// promtool's exit status and what it printed.
    static func check(_ text: String) throws -> (Int32, String) {
        let tool = try #require(promtool, "promtool is missing: apt-get install prometheus (scripts/test does)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: printed, as: UTF8.self))
    }

    @Test func theWholeDocumentAfterTrafficIsClean() async throws {
        var text = ""
        try await GatewayHTTP.withGateway(
            invokeAI: try GatewayHTTP.deadUpstream(), configure: { $0.followsUpstreamEvents = true }
        ) { base, _ in
            for path in ["healthz", "no/such/thing", "v1/runs/some-run", "readyz"] {
                _ = try await TestHTTP.send("GET", base.appendingPathComponent(path))
            }
            _ = try await TestHTTP.send("DELETE", base.appendingPathComponent("healthz"))
            text = try await TestHTTP.send("GET", base.appendingPathComponent("metrics")).text
        }
        #expect(text.contains("gateway_upstream_request_duration_seconds_bucket{"))
        let (status, printed) = try Self.check(text)
        #expect(status == 0 && printed.isEmpty, "\(printed)")
    }

    @Test func everyLabelledFamilyIsClean() throws {
        let metrics = GatewayMetrics()
        metrics.runEnded(workflow: "blank-blur", status: .completed, queueWait: 0.2, duration: 1.5)
        metrics.runEnded(workflow: "blank-blur", status: .failed, queueWait: nil, duration: nil)
        metrics.observe(InvokeAICall(endpoint: "GET /api/v1/queue/{queue_id}/i/{id}", seconds: 0.01, succeeded: true))
        var out: [UInt8] = []
        metrics.render(into: &out)
        let text = String(decoding: out, as: UTF8.self)
        for family in [
            "gateway_runs_ended_total", "gateway_run_duration_seconds_bucket", "gateway_run_queue_wait_seconds_sum",
        ] {
            #expect(text.contains(family + "{"), "\(family) missing")
        }
        let (status, printed) = try Self.check(text)
        #expect(status == 0 && printed.isEmpty, "\(printed)")
    }
}
