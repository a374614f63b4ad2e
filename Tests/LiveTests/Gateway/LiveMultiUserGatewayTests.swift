import Foundation
import GatewayTestSupport
import InvokeAI
import JSONValue
import TestSupport
import Testing

@testable import Gateway

/// The gateway on a multi-user InvokeAI (the harness's `--with-multiuser` instance): it signs in
/// with the account it is given, runs a workflow and follows its events with that account's
/// token, and does not call itself ready when the password is wrong.
@Suite(
    "Live: the gateway on a multi-user InvokeAI",
    .enabled(if: !LiveEnvironment.skipRequested, LiveEnvironment.skipReason))
struct LiveMultiUserGatewayTests {
    private static func environment(_ name: String) throws -> String {
        guard let value = LiveEnvironment.variables[name], !value.isEmpty else {
            throw LiveGateway.Unexpected(
                why: "\(name) is not set: run with scripts/invokeai-harness run --with-multiuser -- swift test")
        }
        return value
    }

    private func gateway<T: Sendable>(
        password: String, _ body: (URL, GatewayServer) async throws -> T
    ) async throws -> T {
        let url = try #require(URL(string: try Self.environment("INVOKEAI_MULTIUSER_URL")))
        let email = try Self.environment("INVOKEAI_MULTIUSER_EMAIL")
        return try await GatewayHTTP.withGateway(
            invokeAI: url,
            configure: {
                $0.invokeAIAuth = .login(email: email, password: password)
                $0.followsUpstreamEvents = true
                $0.destination = "gateway-live-multiuser-\(UUID().uuidString.prefix(6))"
                $0.workflowsDirectory = GatewayHTTP.repositoryRoot.appendingPathComponent("workflows").path
            }, body)
    }

    @Test func theGatewaySignsInRunsAWorkflowAndFollowsItsEvents() async throws {
        let password = try Self.environment("INVOKEAI_MULTIUSER_PASSWORD")
        try await gateway(password: password) { base, server in
            let stream = server.upstreamEvents
            let connected = try await blocking { stream.waitUntilConnected(timeout: 30) }
            try #require(connected, "the event stream did not connect with the gateway's token")

            let (ready, _, readyBody) = try await LiveGateway.send("GET", base.appendingPathComponent("readyz"))
            #expect(ready == 200, "\(String(decoding: readyBody, as: UTF8.self))")

            let (status, _, body) = try await LiveGateway.send(
                "POST", URL(string: "\(base)/v1/workflows/blank-blur/runs?wait=120")!,
                json: ["inputs": ["0": 16, "1": 16]])
            let run = try LiveGateway.json(body)
            #expect(status == 200, "\(run)")
            #expect(run["status"] == "completed")
            let id = try #require(run["id"]?.stringValue)

            // The run's events came over the authenticated event stream: its replay ends with
            // the terminal event.
            let (eventsStatus, _, events) = try await LiveGateway.send(
                "GET", URL(string: "\(base)/v1/runs/\(id)/events")!, headers: ["Accept": "text/event-stream"])
            #expect(eventsStatus == 200)
            let text = String(decoding: events, as: UTF8.self)
            #expect(text.contains("event: run.completed"), "\(text.prefix(2000))")
            #expect(text.contains("event: node.completed"), "\(text.prefix(2000))")

            // The output image is readable with the gateway's token.
            let image = try #require(run["outputs"]?[0]?["images"]?[0]?["name"]?.stringValue)
            let (imageStatus, _, png) = try await LiveGateway.send(
                "GET", base.appendingPathComponent("v1/images/\(image)"))
            #expect(imageStatus == 200 && png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        }
    }

    @Test func aWrongPasswordIsNotReadyAndSaysWhy() async throws {
        try await gateway(password: "not-the-password") { base, _ in
            let (status, _, body) = try await LiveGateway.send("GET", base.appendingPathComponent("readyz"))
            #expect(status == 503)
            let detail = try LiveGateway.json(body)["detail"]?.stringValue ?? ""
            #expect(detail.contains("refused the credentials"), "\(detail)")
            let (runStatus, _, runBody) = try await LiveGateway.send(
                "POST", base.appendingPathComponent("v1/workflows/blank-blur/runs"), json: ["inputs": [:]])
            #expect(runStatus == 502, "\(String(decoding: runBody, as: UTF8.self))")
        }
    }
}
