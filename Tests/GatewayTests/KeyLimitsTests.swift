import Foundation
import GatewayTestSupport
import Synchronization
import TestSupport
import Testing

@testable import Gateway

/// Per-key limits from the keys file: requests per second (a token bucket) and the tenant's
/// runs not ended; both 429 with Retry-After, and counted.
@Suite struct KeyLimitsTests {
    final class FakeClock: Sendable {
        let nanoseconds = Atomic<UInt64>(1_000_000_000)
        func advance(seconds: Double) { nanoseconds.add(UInt64(seconds * 1e9), ordering: .relaxed) }
    }

    @Test func aBucketHoldsOneSecondsWorthAndRefills() {
        let clock = FakeClock()
        let limiter = RateLimiter(now: { clock.nanoseconds.load(ordering: .relaxed) })
        for _ in 0..<4 { #expect(limiter.take(key: "k", perSecond: 4) == nil) }
        let wait = limiter.take(key: "k", perSecond: 4)
        #expect(wait != nil && abs(wait! - 0.25) < 1e-9)
        // Another key has a bucket of its own.
        #expect(limiter.take(key: "other", perSecond: 4) == nil)
        clock.advance(seconds: 0.25)
        #expect(limiter.take(key: "k", perSecond: 4) == nil)
        #expect(limiter.take(key: "k", perSecond: 4) != nil)
        // A slow rate still allows one request, then waits for the next token.
        #expect(limiter.take(key: "slow", perSecond: 0.5) == nil)
        #expect(limiter.take(key: "slow", perSecond: 0.5).map { abs($0 - 2) < 1e-9 } == true)
        clock.advance(seconds: 100)
        for _ in 0..<4 { #expect(limiter.take(key: "k", perSecond: 4) == nil) }
        #expect(limiter.take(key: "k", perSecond: 4) != nil)
    }

    @Test func limitsAreCheckedInTheFile() throws {
        var file = KeysFile()
        #expect(throws: KeysFile.Failure.self) {
            _ = try file.add(name: "x", scopes: [.read], tenant: nil, requestsPerSecond: 0)
        }
        #expect(throws: KeysFile.Failure.self) {
            _ = try file.add(name: "x", scopes: [.read], tenant: nil, maxConcurrentRuns: 0)
        }
        let (record, _) = try file.add(
            name: "x", scopes: [.read], tenant: nil, requestsPerSecond: 2.5, maxConcurrentRuns: 3)
        let path = try KeysTests.temporaryPath()
        try file.write(path: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(#""requests_per_second" : 2.5"#) && text.contains(#""max_concurrent_runs" : 3"#))
        #expect(try KeysFile.read(path: path).keys == [record])
    }

    /// A gateway with the keys file and no InvokeAI (nothing here needs one to answer).
    static func withKeyedGateway(
        keysFile: String, _ body: (URL, GatewayServer) async throws -> Void
    ) async throws {
        try await GatewayHTTP.withGateway(
            invokeAI: try GatewayHTTP.deadUpstream(),
            configure: {
                $0.keysFile = keysFile
                $0.followsUpstreamEvents = false
            }, body)
    }

    @Test func overItsRateAKeyGets429WithRetryAfter() async throws {
        let path = try KeysTests.temporaryPath()
        var file = KeysFile()
        // One request per 20 s: the second comes well within that, however loaded the machine.
        let slow = try file.add(name: "slow", scopes: [.read], tenant: nil, requestsPerSecond: 0.05).key
        let free = try file.add(name: "free", scopes: [.admin], tenant: nil).key
        try file.write(path: path)
        try await Self.withKeyedGateway(keysFile: path) { base, _ in
            let runs = base.appendingPathComponent("v1/runs")
            #expect(try await TestHTTP.send("GET", runs, headers: ["X-API-Key": slow]).status == 200)
            let refused = try await TestHTTP.send("GET", runs, headers: ["X-API-Key": slow])
            #expect(refused.status == 429)
            let retryAfter = try #require(refused.header("Retry-After").flatMap { Int($0) })
            #expect((1...20).contains(retryAfter))
            #expect(refused.header("Content-Type") == "application/problem+json")
            // Others are not slowed.
            for _ in 0..<5 { #expect(try await TestHTTP.send("GET", runs, headers: ["X-API-Key": free]).status == 200) }
            let metrics = try await TestHTTP.send(
                "GET", base.appendingPathComponent("metrics"), headers: ["X-API-Key": free])
            #expect(metrics.text.contains(#"gateway_access_refused_total{reason="rate_limited"} 1"#))
        }
    }

    @Test func overItsConcurrentRunsATenantsSubmissionGets429() async throws {
        let path = try KeysTests.temporaryPath()
        var file = KeysFile()
        let one = try file.add(name: "one", scopes: [.run], tenant: "team-c", maxConcurrentRuns: 1).key
        let admin = try file.add(name: "ops", scopes: [.admin], tenant: nil).key
        try file.write(path: path)
        try await Self.withKeyedGateway(keysFile: path) { base, server in
            let submit = base.appendingPathComponent("v1/workflows/blank-blur/runs")
            let headers = ["X-API-Key": one, "Content-Type": "application/json"]
            // Under the limit the submission goes on (to InvokeAI, which is down here).
            #expect(try await TestHTTP.send("POST", submit, headers: headers, body: Data("{}".utf8)).status != 429)
            server.runs.register(Run(id: "run-c", workflow: "blur", owner: "team-c", itemIDs: [1]))
            server.runs.register(Run(id: "run-other", workflow: "blur", owner: "team-d", itemIDs: [2]))
            let refused = try await TestHTTP.send("POST", submit, headers: headers, body: Data("{}".utf8))
            #expect(refused.status == 429)
            #expect(refused.header("Retry-After") == "5")
            #expect(refused.text.contains("1 run(s) not ended"))
            let metrics = try await TestHTTP.send(
                "GET", base.appendingPathComponent("metrics"), headers: ["X-API-Key": admin])
            #expect(metrics.text.contains(#"gateway_access_refused_total{reason="concurrent_runs"} 1"#))
            #expect(server.runs.unfinishedCount(owner: "team-c") == 1)
        }
    }
}
