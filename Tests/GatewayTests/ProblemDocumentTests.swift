import Foundation
import GatewayTestSupport
import HTTPServer
import TestSupport
import Testing

@testable import Gateway

/// Every problem the gateway answers, whichever layer makes it (the HTTP connection, the guard,
/// the access check, the router, a route, InvokeAI's failures), names a documented kind in `type`,
/// carries `instance`, and is never stored by a cache.
@Suite("Problem documents over loopback", .ownThread)
struct ProblemDocumentTests {
    struct Case: Sendable, CustomStringConvertible {
        let description: String
        let method: String
        let path: String
        var headers: [String: String] = [:]
        var body: String?
        let status: Int
        let type: String
        /// nil: the request path.
        var instance: String?
    }

    static let runID = "run-ended-2"

    static let cases: [Case] = [
        Case(description: "no route", method: "GET", path: "/v1/nothing", status: 404, type: "not-found"),
        Case(description: "method", method: "PATCH", path: "/v1/runs", status: 405, type: "method-not-allowed"),
        Case(description: "limit", method: "GET", path: "/v1/runs?limit=0", status: 400, type: "bad-request"),
        Case(
            description: "status filter", method: "GET", path: "/v1/runs?status=done", status: 400, type: "bad-request"),
        Case(description: "offset", method: "GET", path: "/v1/runs?offset=-1", status: 400, type: "bad-request"),
        Case(
            description: "event id", method: "GET", path: "/v1/events", headers: ["Last-Event-ID": "nope"],
            status: 400, type: "bad-request"),
        Case(
            description: "wait", method: "POST", path: "/v1/workflows/blank-blur/runs?wait=soon",
            headers: ["Content-Type": "application/json"], body: "{}", status: 400, type: "bad-request"),
        Case(
            description: "negative wait", method: "POST", path: "/v1/workflows/blank-blur/runs?wait=-1",
            headers: ["Content-Type": "application/json"], body: "{}", status: 400, type: "bad-request"),
        Case(
            description: "NaN wait", method: "POST", path: "/v1/workflows/blank-blur/runs?wait=nan",
            headers: ["Content-Type": "application/json"], body: "{}", status: 400, type: "bad-request"),
        Case(
            description: "form body", method: "POST", path: "/v1/workflows/blank-blur/runs",
            headers: ["Content-Type": "text/plain"], body: "{}", status: 415, type: "unsupported-media-type"),
        Case(
            description: "cross-site", method: "DELETE", path: "/v1/runs/x",
            headers: ["Origin": "http://attacker.example"], status: 403, type: "cross-site-request"),
        Case(
            description: "run not found upstream down", method: "GET", path: "/v1/runs/unknown", status: 503,
            type: "upstream-unavailable"),
        Case(
            description: "ended run cancelled", method: "DELETE", path: "/v1/runs/\(runID)", status: 409,
            type: "run-state-conflict"),
        Case(
            description: "image only", method: "GET", path: "/v1/runs/\(runID)", headers: ["Accept": "image/png"],
            status: 406, type: "no-single-image"),
        Case(
            description: "unknown problem page", method: "GET", path: "/problems/nope", status: 404, type: "not-found"),
    ]

    @Test(arguments: cases) func aProblemNamesADocumentedKindAndItsInstance(_ c: Case) async throws {
        try await GatewayHTTP.withGateway(
            invokeAI: try GatewayHTTP.deadUpstream(), configure: { $0.followsUpstreamEvents = false }
        ) { base, server in
            var run = Run(id: Self.runID, workflow: "blank-blur", owner: "", itemIDs: [7])
            run.status = .completed
            server.runs.register(run)
            let response = try await TestHTTP.send(
                c.method, URL(string: base.absoluteString + c.path)!, headers: c.headers,
                body: c.body.map { Data($0.utf8) })
            try Self.check(
                response, status: c.status, type: c.type,
                instance: c.instance ?? c.path.split(separator: "?")[0].description)
        }
    }

    /// What the HTTP connection refuses itself, before any route: no path is known, so the
    /// occurrence is named by a `urn:uuid:`.
    @Test func theConnectionsOwnProblemsAreDocumentedToo() async throws {
        try await GatewayHTTP.withGateway(
            invokeAI: try GatewayHTTP.deadUpstream(),
            configure: {
                $0.followsUpstreamEvents = false
                $0.server.limits.maxBodyBytes = 16
            }
        ) { base, _ in
            let port = base.port!
            let requests: [(String, Int, String, String?)] = [
                ("GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400, "bad-request", nil),
                (
                    "GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 20_000))\r\n\r\n", 431,
                    "request-header-fields-too-large", nil
                ),
                ("POST /v1/images HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", 413, "content-too-large", nil),
                // The guard's refusal comes after parsing: the path is known.
                ("GET /v1/runs HTTP/1.1\r\nHost: attacker.example\r\n\r\n", 421, "unknown-host", "/v1/runs"),
            ]
            for (text, status, type, instance) in requests {
                let response = try await blocking {
                    let socket = try TestSocket(port: port)
                    defer { socket.close() }
                    try socket.send(text)
                    return try socket.readResponse()
                }
                try Self.check(response, status: status, type: type, instance: instance)
            }
        }
    }

    /// The kinds the gateway names are the ones its documentation lists: the OpenAPI document's
    /// ProblemType schema and the README's table; each has its page.
    @Test func everyKindIsDocumentedAndHasItsPage() async throws {
        let root = GatewayHTTP.repositoryRoot
        let document =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: root.appendingPathComponent("openapi/openapi.json"))) as? [String: Any]
        let schemas = (document?["components"] as? [String: Any])?["schemas"] as? [String: Any]
        let oneOf = (schemas?["ProblemType"] as? [String: Any])?["oneOf"] as? [[String: Any]] ?? []
        let documented = Set(oneOf.compactMap { $0["const"] as? String })
        #expect(documented == Set(ProblemType.all.map(\.uri)))
        #expect(Set(ProblemType.all.map(\.slug)).count == ProblemType.all.count)
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let missing = ProblemType.all.map(\.uri).filter { !readme.contains("`\($0)`") }
        #expect(missing == [])
        try await GatewayHTTP.withGateway(
            invokeAI: try GatewayHTTP.deadUpstream(), configure: { $0.followsUpstreamEvents = false }
        ) { base, _ in
            for type in ProblemType.all {
                let response = try await TestHTTP.send("GET", URL(string: base.absoluteString + type.uri)!)
                #expect(response.status == 200)
                #expect(response.text.contains(type.title.replacingOccurrences(of: "'", with: "'")))
                #expect(response.headers["content-type"] == "text/html; charset=utf-8")
            }
        }
    }

    /// The contract's version is the binary's.
    @Test func theContractsVersionIsTheBuildVersion() throws {
        let url = GatewayHTTP.repositoryRoot.appendingPathComponent("openapi/openapi.json")
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        #expect((document?["info"] as? [String: Any])?["version"] as? String == BuildInfo.version)
    }

    static func check(_ response: TestHTTP.Response, status: Int, type: String, instance: String?) throws {
        #expect(response.status == status, "\(response.text)")
        #expect(response.headers["content-type"] == "application/problem+json")
        #expect(response.headers["cache-control"] == "no-store")
        let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
        let documented = Set(ProblemType.all.map(\.uri))
        let named = json["type"] as? String ?? ""
        #expect(named == "/problems/\(type)")
        #expect(documented.contains(named))
        #expect(json["title"] as? String == ProblemType.all.first { $0.uri == named }?.title)
        #expect(json["status"] as? Int == status)
        let occurrence = json["instance"] as? String ?? ""
        if let instance {
            #expect(occurrence == instance)
        } else {
            #expect(occurrence.hasPrefix("urn:uuid:") && occurrence.count == 45, "\(occurrence)")
        }
    }
}
