import Foundation
import InvokeAI
import JSONValue
import Testing

/// The InvokeAI client's view of the live InvokeAI (`LiveEnvironment`).
enum LiveInvokeAI {
    static func client(auth: InvokeAIAuth = .none) throws -> InvokeAIClient {
        InvokeAIClient(
            configuration: InvokeAIClientConfiguration(
                baseURL: try LiveEnvironment.invokeAIURL(), requestTimeout: 30, auth: auth))
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
