import Foundation
import GatewayTestSupport
import JSONValue
import Synchronization
import TestSupport
import Testing

@testable import Gateway

/// What issue 20 checks against a real InvokeAI: a JSON log of a run shows its access lines and
/// its transitions; the metrics show request histograms and run counts after a few runs.
@Suite("Live: operations log and metrics", .enabled(if: !LiveEnvironment.skipRequested, LiveEnvironment.skipReason))
struct LiveOperationsLogTests {
    @Test func aRunsJSONLogShowsItsAccessLinesAndTransitionsAndTheMetricsCountIt() async throws {
        let capture = LogCapture()
        let writer = capture.writer
        let runs = 3
        var ids: [String] = []
        var metrics = ""
        try await LiveGateway.with(configure: {
            $0.logHandlerFactory = { GatewayLogHandler(label: $0, format: .json, level: .info, writer: writer) }
        }) { base, _ in
            for index in 0..<runs {
                let (status, headers, body) = try await LiveGateway.send(
                    "POST", URL(string: "\(base)/v1/workflows/blank-blur/runs?wait=120")!,
                    json: ["inputs": ["0": 8, "1": 8]], headers: ["X-Request-Id": "live-run-\(index)"])
                #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")
                #expect(headers["x-request-id"] == "live-run-\(index)")
                ids.append(try #require(try LiveGateway.json(body)["id"]?.stringValue))
            }
            let (_, _, body) = try await LiveGateway.send("GET", base.appendingPathComponent("metrics"))
            metrics = String(decoding: body, as: UTF8.self)
        }
        writer.flush()
        let lines = try capture.text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "not JSON: \($0)")
        }
        for (index, id) in ids.enumerated() {
            let access = try #require(lines.first { $0["request_id"] as? String == "live-run-\(index)" })
            #expect(access["label"] as? String == "gateway.access")
            #expect(access["route"] as? String == "/v1/workflows/{name}/runs")
            #expect(access["method"] as? String == "POST")
            #expect(access["status"] as? Int == 200)
            #expect((access["bytes"] as? Int ?? 0) > 0)
            let transitions = lines.filter { $0["label"] as? String == "gateway.runs" && $0["run"] as? String == id }
            #expect(
                transitions.map { $0["status"] as? String } == ["queued", "running", "completed"], "\(transitions)")
            #expect(transitions.allSatisfy { $0["workflow"] as? String == "blank-blur" })
            // The end's durations come from InvokeAI's record of the run's item.
            let end = try #require(transitions.last)
            #expect(end["duration_s"] is Double && end["queue_wait_s"] is Double)
        }
        #expect(
            lines.contains {
                $0["label"] as? String == "gateway.upstream" && $0["message"] as? String == "event stream connected"
            })

        func value(_ prefix: String, _ parts: [String]) -> Double? {
            metrics.split(separator: "\n").first { line in
                line.hasPrefix(prefix) && parts.allSatisfy { line.contains($0) }
            }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        let blankBlurCompleted = [#"workflow="blank-blur""#, #"status="completed""#]
        #expect(value("gateway_runs_ended_total{", blankBlurCompleted) == Double(runs), "\(metrics)")
        #expect(value("gateway_run_duration_seconds_count{", blankBlurCompleted) == Double(runs))
        #expect(value("gateway_run_queue_wait_seconds_count{", blankBlurCompleted) == Double(runs))
        #expect(
            value(
                "gateway_http_request_duration_seconds_count{",
                [#"route="/v1/workflows/{name}/runs""#, #"method="POST""#, #"status_class="2xx""#]) == Double(runs))
        #expect(value("gateway_upstream_connected", []) == 1)
        #expect((value("gateway_upstream_request_duration_seconds_count{", [#"outcome="ok""#]) ?? 0) > 0)
    }
}

/// The operations log's lines, kept in memory.
final class LogCapture: Sendable {
    private final class Store: Sendable { let bytes = Mutex<[UInt8]>([]) }
    private let store: Store
    let writer: LogWriter

    init() {
        let store = Store()
        self.store = store
        writer = LogWriter(interval: nil) { batch in store.bytes.withLock { $0.append(contentsOf: batch) } }
    }

    var text: String { store.bytes.withLock { String(decoding: $0, as: UTF8.self) } }
}
