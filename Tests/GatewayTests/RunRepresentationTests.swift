import Foundation
import GatewayTestSupport
import HTTPCore
import HTTPServer
import JSONValue
import TestSupport
import Testing

@testable import Gateway

/// `Accept: image/*` on `GET /v1/runs/{id}`: the single image, JSON when the client accepts it
/// too, else 406 naming the run's status and images, never JSON it did not ask for. InvokeAI is
/// down: a run with one image is answered by fetching it (503 here), not with JSON.
@Suite("A run's representations by Accept", .ownThread)
struct RunRepresentationTests {
    static func run(_ id: String, _ status: RunStatus, images: [String]) -> Run {
        var run = Run(id: id, workflow: "blank-blur", owner: "", itemIDs: [1])
        run.status = status
        run.outputs = [
            [
                "node": "blur",
                "images": .array(images.map { ["name": .string($0), "url": .string("/v1/images/\($0)")] }),
            ]
        ]
        return run
    }

    @Test func imagesOnlyIsTheSingleImageOr406() async throws {
        try await GatewayHTTP.withGateway(
            invokeAI: try GatewayHTTP.deadUpstream(), configure: { $0.followsUpstreamEvents = false }
        ) { base, server in
            server.runs.register(Self.run("two", .completed, images: ["a.png", "b.png"]))
            server.runs.register(Self.run("none", .failed, images: []))
            server.runs.register(Self.run("busy", .running, images: []))
            server.runs.register(Self.run("one", .completed, images: ["c.png"]))
            func get(_ id: String, _ accept: String?) async throws -> TestHTTP.Response {
                try await TestHTTP.send(
                    "GET", URL(string: "\(base.absoluteString)/v1/runs/\(id)")!,
                    headers: accept.map { ["Accept": $0] } ?? [:])
            }
            for (id, status, count) in [("two", "completed", 2), ("none", "failed", 0), ("busy", "running", 0)] {
                let response = try await get(id, "image/*")
                #expect(response.status == 406)
                let problem = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
                #expect(problem["type"] as? String == "/problems/no-single-image")
                #expect(problem["run_status"] as? String == status)
                #expect(problem["image_count"] as? Int == count)
                #expect((problem["images"] as? [String])?.count == count)
                #expect(response.headers["vary"] == "Accept")
            }
            // Two images, JSON accepted as well: the run as JSON.
            let both = try await get("two", "image/png, application/json;q=0.5")
            #expect(both.status == 200)
            #expect(both.headers["content-type"] == "application/json")
            #expect(both.headers["vary"] == "Accept")
            // An image refused with q=0 is no request for one.
            #expect(try await get("two", "image/png;q=0, */*").status == 200)
            // Without Accept: JSON, as always.
            #expect(try await get("none", nil).status == 200)
            // One image: the gateway goes to InvokeAI for it (down here: 503, not JSON 200).
            let one = try await get("one", "image/png")
            #expect(one.status == 503)
            #expect(one.headers["content-type"] == "application/problem+json")
        }
    }

    /// Found by schemathesis: a run whose one image was deleted since (cleanup, DELETE
    /// /v1/images) was a 502 for `Accept: image/png`; InvokeAI's 404 for it is the run's 406.
    @Test func aRunWhoseImageWasDeletedIs406OrJSON() async throws {
        let invokeAI = try AnsweringPort(
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 22\r\nConnection: close\r\n\r\n{\"detail\":\"Not Found\"}"
        )
        defer { invokeAI.close() }
        try await GatewayHTTP.withGateway(invokeAI: invokeAI.url, configure: { $0.followsUpstreamEvents = false }) {
            base, server in
            server.runs.register(Self.run("gone", .completed, images: ["d.png"]))
            let url = URL(string: "\(base.absoluteString)/v1/runs/gone")!
            let imageOnly = try await TestHTTP.send("GET", url, headers: ["Accept": "image/png"])
            #expect(imageOnly.status == 406)
            #expect(imageOnly.text.contains("no longer in InvokeAI"))
            let either = try await TestHTTP.send("GET", url, headers: ["Accept": "image/png, application/json"])
            #expect(either.status == 200)
            #expect(either.headers["content-type"] == "application/json")
        }
    }

    /// The members a run request may have are those the per-workflow schema lists (WorkflowsTests
    /// holds `runRequestSchema` to the same list).
    @Test func theRunRequestMembersAreTheSchemas() {
        #expect(RunSubmission.bodyKeys == ["inputs", "board", "priority", "cleanup", "models"])
    }

    @Test func aWaitThatIsNotANumberIsRefused() throws {
        for text in ["soon", "-1", "nan", "inf", ""] {
            let request = request("/v1/workflows/x/runs?wait=\(text)")
            #expect(throws: HTTPError.self) { try RunRepresentation.requestedWait(request) }
        }
        #expect(try RunRepresentation.requestedWait(request("/x?wait=2.5")) == 2.5)
        #expect(try RunRepresentation.requestedWait(request("/x")) == 0)
        // A preference that is not a number is ignored (RFC 7240), not refused.
        #expect(
            try RunRepresentation.requestedWait(request("/x", ["Prefer": "wait=later"]))
                == 0)
    }
}

private func request(_ target: String, _ headers: HTTPHeaders = ["Host": "x"]) -> HTTPRequest {
    HTTPRequest(head: HTTPRequestHead(method: .POST, target: target, headers: headers))
}
