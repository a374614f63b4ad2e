import Foundation
import GatewayTestSupport
import TestSupport
import Testing

@testable import Gateway

/// What a web page must not do to a gateway it can reach: address it under a rebound DNS name,
/// post to it from another site (even as a "simple" text/plain form), or frame it.
@Suite("Browser safety", .ownThread)
struct BrowserSafetyTests {
    /// One raw HTTP/1.1 request with exactly these header lines (`Host` included).
    private static func send(
        _ port: Int, _ method: String, _ path: String, _ headers: [String], body: String = ""
    ) throws -> TestSocket.Response {
        let client = try TestSocket(port: port, timeout: .seconds(20))
        var head = "\(method) \(path) HTTP/1.1\r\nConnection: close\r\n"
        for line in headers { head += line + "\r\n" }
        if !body.isEmpty { head += "Content-Length: \(body.utf8.count)\r\n" }
        try client.send(head + "\r\n" + body)
        return try client.readResponse(head: method == "HEAD")
    }

    private static func withGateway(
        allowedHosts: [String] = [], cors: Set<String> = [],
        _ body: (Int) async throws -> Void
    ) async throws {
        try await GatewayHTTP.withGateway(
            invokeAI: try GatewayHTTP.deadUpstream(),
            configure: {
                $0.allowedHosts = allowedHosts
                $0.cors = CORSPolicy(allowedOrigins: cors)
                $0.publicDirectory = GatewayHTTP.repositoryRoot.appendingPathComponent("Public").path
                $0.workflowsDirectory = GatewayHTTP.repositoryRoot.appendingPathComponent("workflows").path
            }
        ) { _, server in try await body(server.port) }
    }

    @Test func aForeignHostIsRefusedWith421AndTheLoopbackNamesPass() async throws {
        try await Self.withGateway { port async throws in
            let foreign = try Self.send(port, "GET", "/metrics", ["Host: attacker.example:\(port)"])
            #expect(foreign.status == 421)
            #expect(foreign.header("Content-Type") == "application/problem+json")
            #expect(foreign.text.contains("attacker.example"))
            for host in ["localhost:\(port)", "127.0.0.1:\(port)", "[::1]:\(port)", "LOCALHOST", "localhost."] {
                #expect(try Self.send(port, "GET", "/metrics", ["Host: \(host)"]).status == 200, "\(host)")
            }
            // Liveness answers under any name (the harness and load balancers probe it).
            #expect(try Self.send(port, "GET", "/healthz", ["Host: attacker.example"]).status == 200)
            let metrics = try Self.send(port, "GET", "/metrics", ["Host: localhost"]).text
            #expect(metrics.contains(#"gateway_requests_refused_total{reason="host"} 1"#))
        }
    }

    @Test func configuredHostsPassAndAStarDisablesTheCheck() async throws {
        try await Self.withGateway(allowedHosts: ["gateway.lan"]) { port async throws in
            #expect(try Self.send(port, "GET", "/metrics", ["Host: gateway.lan:\(port)"]).status == 200)
            #expect(try Self.send(port, "GET", "/metrics", ["Host: other.lan"]).status == 421)
        }
        try await Self.withGateway(allowedHosts: ["*"]) { port async throws in
            #expect(try Self.send(port, "GET", "/metrics", ["Host: anything.example"]).status == 200)
        }
    }

    @Test func hostNamesParseWithAndWithoutPorts() {
        let hosts = AllowedHosts(bindAddress: "192.168.1.5", configured: ["Gateway.LAN"])
        #expect(hosts.allows("192.168.1.5:8080"))
        #expect(hosts.allows("gateway.lan"))
        #expect(hosts.allows("[::1]"))
        #expect(!hosts.allows("192.168.1.6"))
        #expect(!hosts.allows("localhost.attacker.example"))
        #expect(!hosts.allows("[::2]:8080"))
        // A wildcard bind names no host.
        #expect(AllowedHosts(bindAddress: "0.0.0.0").names == AllowedHosts.loopback)
    }

    @Test func aCrossSitePostIsRefusedWith403AndNothingRuns() async throws {
        try await Self.withGateway { port async throws in
            let host = "Host: 127.0.0.1:\(port)"
            // The classic: a text/plain form from another site, which needs no preflight.
            let form = try Self.send(
                port, "POST", "/v1/workflows/blank-blur/runs",
                [host, "Origin: https://attacker.example", "Content-Type: text/plain"], body: #"{"inputs":{}}"#)
            #expect(form.status == 403)
            #expect(form.text.contains("attacker.example"))
            // Only Sec-Fetch-Site says so (a browser that sent no Origin).
            let fetchSite = try Self.send(
                port, "DELETE", "/v1/runs/x", [host, "Sec-Fetch-Site: cross-site"])
            #expect(fetchSite.status == 403)
            // `Origin: null` (a sandboxed frame, a file: page) is not the gateway's own origin either.
            #expect(try Self.send(port, "DELETE", "/v1/runs/x", [host, "Origin: null"]).status == 403)
            // Reads are not refused (the browser keeps their answers from the other site anyway).
            let read = try Self.send(port, "GET", "/metrics", [host, "Origin: https://attacker.example"])
            #expect(read.status == 200)
            #expect(read.text.contains(#"gateway_requests_refused_total{reason="cross_site"} 3"#))
        }
    }

    @Test func sameOriginAndOriginlessPostsPass() async throws {
        try await Self.withGateway(cors: ["https://app.example"]) { port async throws in
            let host = "Host: 127.0.0.1:\(port)"
            // Past the guard, the route answers: InvokeAI is down here (503), which is the point.
            for headers in [
                [host, "Origin: http://127.0.0.1:\(port)", "Sec-Fetch-Site: same-origin"],
                [host], // curl, services
                [host, "Origin: https://app.example", "Sec-Fetch-Site: cross-site"], // a configured CORS origin
            ] {
                let response = try Self.send(
                    port, "POST", "/v1/workflows/blank-blur/runs", headers + ["Content-Type: application/json"],
                    body: #"{"inputs":{}}"#)
                #expect(response.status == 503, "\(headers)")
            }
        }
    }

    @Test func aRunBodyThatIsNotJSONIsRefusedWith415() async throws {
        try await Self.withGateway { port async throws in
            let host = "Host: 127.0.0.1:\(port)"
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
                let response = try Self.send(
                    port, "POST", "/v1/workflows/blank-blur/runs", [host, "Content-Type: \(type)"],
                    body: #"{"inputs":{}}"#)
                #expect(response.status == 415, "\(type)")
                #expect(response.header("Accept-Post") == "application/json")
            }
            let upload = try Self.send(
                port, "PUT", "/v1/workflows/mine/definition", [host, "Content-Type: text/plain"], body: "{}")
            #expect(upload.status == 415)
            // JSON with parameters, and +json types, pass the check (InvokeAI is down: 503).
            for type in ["application/json; charset=utf-8", "application/vnd.example+json"] {
                let response = try Self.send(
                    port, "POST", "/v1/workflows/blank-blur/runs", [host, "Content-Type: \(type)"],
                    body: #"{"inputs":{}}"#)
                #expect(response.status == 503, "\(type)")
            }
        }
    }

    @Test func theStatusPageAndAPIAnswersCarrySecurityHeaders() async throws {
        try await Self.withGateway { port async throws in
            let host = "Host: 127.0.0.1:\(port)"
            let page = try Self.send(port, "GET", "/", [host])
            #expect(page.status == 200)
            let policy = try #require(page.header("Content-Security-Policy"))
            #expect(policy.contains("script-src 'self'"))
            #expect(policy.contains("frame-ancestors 'none'"))
            #expect(!policy.contains("unsafe-inline"))
            #expect(page.header("X-Content-Type-Options") == "nosniff")
            #expect(page.header("X-Frame-Options") == "DENY")
            #expect(page.header("Referrer-Policy") == "no-referrer")
            // The page has no inline script or style the policy would block.
            #expect(!page.text.contains("<script>") && !page.text.contains("style="))
            for path in ["/healthz", "/v1/workflows/none-such", "/app.js"] {
                let answer = try Self.send(port, "GET", path, [host])
                #expect(answer.header("X-Content-Type-Options") == "nosniff", "\(path)")
                #expect(answer.header("Content-Security-Policy")?.contains("frame-ancestors 'none'") == true, "\(path)")
            }
            #expect(
                try Self.send(port, "GET", "/healthz", [host]).header("Content-Security-Policy")
                    == SecurityHeaders.apiPolicy)
        }
    }
}
