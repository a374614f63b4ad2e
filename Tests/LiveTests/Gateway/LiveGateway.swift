import Foundation
import GatewayTestSupport
import JSONValue
import TestSupport
import Testing

@testable import Gateway

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What the live suites share: a gateway on the harness's InvokeAI with its event stream
/// connected, plain HTTP calls, and small workflows written for one test.
enum LiveGateway {
    struct Unexpected: Error { let why: String }

    static func with<T: Sendable>(
        destination: String = "gateway-live-\(UUID().uuidString.prefix(6))",
        workflows: String = GatewayHTTP.repositoryRoot.appendingPathComponent("workflows").path,
        configure: (inout GatewayConfiguration) -> Void = { _ in },
        _ body: (URL, GatewayServer) async throws -> T
    ) async throws -> T {
        let upstream = try LiveEnvironment.invokeAIURL()
        return try await GatewayHTTP.withGateway(
            invokeAI: upstream,
            configure: {
                $0.followsUpstreamEvents = true
                $0.destination = destination
                $0.workflowsDirectory = workflows
                configure(&$0)
            }
        ) { base, server in
            let stream = server.upstreamEvents
            let connected = try await blocking { stream.waitUntilConnected(timeout: 30) }
            try #require(connected, "the gateway's event stream did not connect to InvokeAI")
            return try await body(base, server)
        }
    }

    static func send(
        _ method: String, _ url: URL, json: JSONValue? = nil, raw: String? = nil, headers: [String: String] = [:]
    ) async throws -> (Int, [String: String], Data) {
        var request = URLRequest(url: url)
        // Runs that wait may take minutes on a loaded CPU; the test states what must happen, not how fast.
        request.timeoutInterval = 300
        request.httpMethod = method
        if let json {
            request.httpBody = try JSONEncoder().encode(json);
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let raw {
            request.httpBody = Data(raw.utf8); request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await TestHTTP.data(for: request)
        var fields: [String: String] = [:]
        for (name, value) in response.allHeaderFields {
            fields[String(describing: name).lowercased()] = String(describing: value)
        }
        return (response.statusCode, fields, data)
    }

    static func json(_ data: Data) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: data) }

    /// A fresh folder with the repository's example workflows and `extra` ones (name -> definition).
    static func workflowFolder(_ extra: [String: JSONValue]) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "gateway-live-workflows-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let examples = GatewayHTTP.repositoryRoot.appendingPathComponent("workflows")
        for name in try FileManager.default.contentsOfDirectory(atPath: examples.path) where name.hasSuffix(".json") {
            try FileManager.default.copyItem(
                at: examples.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        for (name, definition) in extra {
            try JSONEncoder().encode(definition).write(to: folder.appendingPathComponent("\(name).json"))
        }
        return folder.path
    }

    /// A workflow of one node of `type` with `fields`, each field exposed as an input in order.
    static func oneNodeWorkflow(_ type: String, fields: [(String, JSONValue)], isIntermediate: Bool = false)
        -> JSONValue
    {
        var inputs = JSONObject()
        for (name, value) in fields { inputs[name] = ["name": .string(name), "label": "", "value": value] }
        return [
            "name": .string("one \(type)"), "description": "", "version": "1.0.0", "contact": "", "tags": "",
            "notes": "", "author": "tests",
            "meta": ["category": "user", "version": "3.0.0"],
            "exposedFields": .array(fields.map { ["nodeId": "node", "fieldName": .string($0.0)] }),
            "nodes": [
                [
                    "id": "node", "type": "invocation", "position": ["x": 0, "y": 0],
                    "data": [
                        "id": "node", "version": "1.0.0", "label": "", "notes": "", "type": .string(type),
                        "inputs": .object(inputs),
                        "isOpen": true, "isIntermediate": .bool(isIntermediate), "useCache": false,
                    ],
                ]
            ],
            "edges": [],
        ]
    }
}
