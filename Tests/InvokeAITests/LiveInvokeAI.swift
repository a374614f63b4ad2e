import Foundation
import InvokeAI
import JSONValue
import Testing

/// The live InvokeAI from `scripts/invokeai-harness run`. Live tests fail without
/// `INVOKEAI_URL` unless `GATEWAY_SKIP_LIVE=1` asks to skip them (they then show as skipped).
enum LiveInvokeAI {
    static let environment = ProcessInfo.processInfo.environment
    static let skipRequested = environment["GATEWAY_SKIP_LIVE"] == "1"
    static let skipReason: Comment = "GATEWAY_SKIP_LIVE=1: live InvokeAI tests skipped on request"

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "INVOKEAI_URL is not set: run the tests with scripts/invokeai-harness run -- swift test, "
                + "or set GATEWAY_SKIP_LIVE=1 to skip the live tests explicitly"
        }
    }

    static func url() throws -> URL {
        guard let text = environment["INVOKEAI_URL"], let url = URL(string: text) else { throw Missing() }
        return url
    }

    static func client(auth: InvokeAIAuth = .none) throws -> InvokeAIClient {
        InvokeAIClient(configuration: InvokeAIClientConfiguration(baseURL: try url(), requestTimeout: 30, auth: auth))
    }

    /// A one-node graph of the harness's slow test node.
    static func slowBatch(steps: Int, stepMs: Int, label: String, destination: String, reportClock: Bool = false)
        -> JSONValue
    {
        var node: JSONObject = [
            "id": "slow", "type": "gateway_test_slow", "steps": .int(steps), "step_ms": .int(stepMs),
            "label": .string(label),
        ]
        if reportClock { node["report_clock"] = true }
        return [
            "graph": ["id": .string("g-\(label)"), "nodes": ["slow": .object(node)], "edges": []],
            "runs": 1, "origin": "invokeai-tests", "destination": .string(destination),
        ]
    }

    static func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8))" }
}
