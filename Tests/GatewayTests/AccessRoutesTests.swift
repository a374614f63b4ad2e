import Foundation
import GatewayTestSupport
import HTTPServer
import TestSupport
import Testing

@testable import Gateway

/// A gateway with a keys file, over loopback (InvokeAI down: what is checked here is decided
/// before InvokeAI is asked): 401 without a key, 403 without the scope, and another tenant's
/// runs and events not found.
@Suite struct AccessRoutesTests {
    struct Keys {
        let path: String
        let admin: String
        let teamA: String
        let teamB: String
        let readerA: String
    }

    static func makeKeys() throws -> Keys {
        let path = try KeysTests.temporaryPath()
        var file = KeysFile()
        let admin = try file.add(name: "ops", scopes: [.admin], tenant: "ops").key
        let teamA = try file.add(name: "a", scopes: [.read, .run], tenant: "team-a").key
        let teamB = try file.add(name: "b", scopes: [.read, .run], tenant: "team-b").key
        let readerA = try file.add(name: "a-reader", scopes: [.read], tenant: "team-a").key
        try file.write(path: path)
        return Keys(path: path, admin: admin, teamA: teamA, teamB: teamB, readerA: readerA)
    }

    func withKeyedGateway(_ keys: Keys, _ body: (URL, GatewayServer) async throws -> Void) async throws {
        try await GatewayHTTP.withGateway(
            invokeAI: try GatewayHTTP.deadUpstream(),
            configure: {
                $0.keysFile = keys.path
                $0.followsUpstreamEvents = false
                $0.openAPIFile = GatewayHTTP.repositoryRoot.appendingPathComponent("openapi/openapi.json").path
                $0.publicDirectory = GatewayHTTP.repositoryRoot.appendingPathComponent("Public").path
            }, body)
    }

    func send(_ method: String, _ url: URL, key: String?, header: String = "Authorization") async throws
        -> TestHTTP.Response
    {
        var headers: [String: String] = [:]
        if let key { headers[header] = header == "Authorization" ? "Bearer \(key)" : key }
        return try await TestHTTP.send(method, url, headers: headers, body: method == "POST" ? Data("{}".utf8) : nil)
    }

    /// Every route with real values for its parameters.
    static func concrete(_ route: String) -> (method: String, path: String) {
        let parts = route.split(separator: " ", maxSplits: 1)
        let path = String(parts[1]).replacingOccurrences(of: "{name}", with: "blank-blur")
            .replacingOccurrences(of: "{id}", with: "some-run")
        return (String(parts[0]), String(path.dropFirst()))
    }

    @Test func theTableCoversExactlyTheRoutesServed() throws {
        let server = try GatewayServer(
            configuration: GatewayConfiguration(
                invokeAIURL: try GatewayHTTP.deadUpstream(),
                openAPIFile: GatewayHTTP.repositoryRoot.appendingPathComponent("openapi/openapi.json").path,
                followsUpstreamEvents: false))
        #expect(Set(server.routeList) == Set(AccessTable.routes.keys))
    }

    @Test func everyRouteButTheOpenOnesIs401WithoutAKnownKey() async throws {
        let keys = try Self.makeKeys()
        try await withKeyedGateway(keys) { base, _ in
            for (route, requirement) in AccessTable.routes.sorted(by: { $0.key < $1.key }) {
                let (method, path) = Self.concrete(route)
                for key in [nil, "igw_not-a-key"] {
                    let response = try await send(method, base.appendingPathComponent(path), key: key)
                    if requirement == .open {
                        #expect(response.status != 401, "\(route)")
                        continue
                    }
                    #expect(response.status == 401, "\(route) with key \(key ?? "none")")
                    #expect(response.header("WWW-Authenticate") == #"Bearer realm="invokeai-gateway""#)
                    #expect(response.header("Content-Type") == "application/problem+json")
                    // The presented key is never echoed.
                    #expect(!response.text.contains("igw_not-a-key"))
                }
            }
            // The status page's files are open.
            #expect(try await send("GET", base, key: nil).status == 200)
        }
    }

    @Test func aKeyWithoutTheScopeIs403NamingIt() async throws {
        let keys = try Self.makeKeys()
        try await withKeyedGateway(keys) { base, _ in
            let submit = try await send("POST", base.appendingPathComponent("v1/workflows/x/runs"), key: keys.readerA)
            #expect(submit.status == 403)
            #expect(submit.header("Content-Type") == "application/problem+json")
            let problem = try JSONSerialization.jsonObject(with: Data(submit.body)) as? [String: Any]
            #expect(problem?["missing_scope"] as? String == "run")
            #expect((problem?["detail"] as? String)?.contains("'run'") == true)
            for (method, path) in [
                ("GET", "v1/queue"), ("GET", "v1/boards"), ("GET", "metrics"), ("PUT", "v1/workflows/x/definition"),
                ("DELETE", "v1/workflows/x/definition"),
            ] {
                let response = try await send(method, base.appendingPathComponent(path), key: keys.teamA)
                #expect(response.status == 403, "\(method) \(path)")
                #expect(response.text.contains("admin"))
            }
            // The key in X-API-Key works the same; admin has every scope.
            let listed = try await send(
                "GET", base.appendingPathComponent("v1/runs"), key: keys.readerA, header: "X-API-Key")
            #expect(listed.status == 200)
            let metrics = try await send("GET", base.appendingPathComponent("metrics"), key: keys.admin)
            #expect(metrics.status == 200)
            // One refusal for the submission, five for the admin routes.
            #expect(metrics.text.contains(#"gateway_access_refused_total{reason="forbidden"} 6"#))
            #expect(metrics.text.contains(#"gateway_access_refused_total{reason="unauthenticated"} 0"#))
        }
    }

    @Test func aRevokedKeyIsRefusedWithoutARestart() async throws {
        let keys = try Self.makeKeys()
        try await withKeyedGateway(keys) { base, _ in
            let runs = base.appendingPathComponent("v1/runs")
            #expect(try await send("GET", runs, key: keys.teamB).status == 200)
            var file = try KeysFile.read(path: keys.path)
            _ = try file.revoke("b")
            try file.write(path: keys.path)
            let deadline = ContinuousClock.now + .seconds(10)
            var status = 200
            while status == 200, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                status = try await send("GET", runs, key: keys.teamB).status
            }
            #expect(status == 401)
            #expect(try await send("GET", runs, key: keys.teamA).status == 200)
        }
    }

    @Test func anotherTenantsRunsAreNotFoundAndNotListed() async throws {
        let keys = try Self.makeKeys()
        try await withKeyedGateway(keys) { base, server in
            server.runs.register(Run(id: "run-a", workflow: "blur", owner: "team-a", itemIDs: [1]))
            server.runs.register(Run(id: "run-b", workflow: "blur", owner: "team-b", itemIDs: [2]))
            server.runs.register(Run(id: "run-old", workflow: "blur", owner: "", itemIDs: [3]))

            func listed(_ key: String, _ query: String = "") async throws -> [String] {
                let url = URL(string: base.absoluteString + "/v1/runs" + query)!
                let response = try await send("GET", url, key: key)
                let body = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
                #expect(((body?["runs"] as? [[String: Any]])?.count ?? -1) == body?["total"] as? Int)
                return ((body?["runs"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
            }
            #expect(try await listed(keys.teamA) == ["run-a"])
            #expect(try await listed(keys.readerA, "?workflow=blur&status=queued") == ["run-a"])
            #expect(try await listed(keys.teamB) == ["run-b"])
            #expect(try await listed(keys.admin) == ["run-old", "run-b", "run-a"])

            for (method, path) in [
                ("GET", "v1/runs/run-b"), ("DELETE", "v1/runs/run-b"), ("DELETE", "v1/runs/run-b/outputs"),
                ("GET", "v1/runs/run-b/events"),
            ] {
                let response = try await send(method, base.appendingPathComponent(path), key: keys.teamA)
                #expect(response.status == 404, "\(method) \(path)")
                #expect(response.text.contains("no run run-b"))
            }
            #expect(
                try await send("GET", base.appendingPathComponent("v1/runs/run-a"), key: keys.readerA).status == 200)
            #expect(try await send("GET", base.appendingPathComponent("v1/runs/run-b"), key: keys.admin).status == 200)
            // Runs from before tenancy are the anonymous tenant's: an admin's only.
            #expect(
                try await send("GET", base.appendingPathComponent("v1/runs/run-old"), key: keys.teamA).status == 404)
        }
    }

    @Test func aTenantsEventStreamCarriesOnlyItsOwnRunsEvents() async throws {
        let keys = try Self.makeKeys()
        try await withKeyedGateway(keys) { base, server in
            let port = base.port!
            let (teamA, admin) = (keys.teamA, keys.admin)
            let stream = try await blocking {
                try SSETestClient(port: port, target: "/v1/events", headers: ["Authorization": "Bearer \(teamA)"])
            }
            let everything = try await blocking {
                try SSETestClient(port: port, target: "/v1/events", headers: ["Authorization": "Bearer \(admin)"])
            }
            #expect(stream.status == 200)
            server.runs.register(Run(id: "run-b", workflow: "blur", owner: "team-b", itemIDs: [2]))
            server.runs.register(Run(id: "run-a", workflow: "blur", owner: "team-a", itemIDs: [1]))
            server.events.publish("upstream.connected", data: ["connected": true])
            let first = try await blocking { try stream.next() }
            let second = try await blocking { try stream.next() }
            #expect(first?.event == "run.queued")
            #expect(first?.data.contains("run-a") == true)
            #expect(second?.event == "upstream.connected")
            let adminFirst = try await blocking { try everything.next() }
            #expect(adminFirst?.data.contains("run-b") == true)
            // A replay of what is held is filtered the same way.
            let epoch = server.events.epoch
            let replayed = try await blocking {
                try SSETestClient(
                    port: port, target: "/v1/events?last_event_id=\(epoch)-0",
                    headers: ["Authorization": "Bearer \(teamA)"])
            }
            #expect(replayed.status == 200)
            let replayedFirst = try await blocking { try replayed.next() }
            #expect(replayedFirst?.data.contains("run-a") == true)
        }
    }

    @Test func withoutAKeysFileEveryoneIsTheAnonymousAdmin() async throws {
        try await GatewayHTTP.withGateway(
            invokeAI: try GatewayHTTP.deadUpstream(), configure: { $0.followsUpstreamEvents = false }
        ) { (base: URL, server: GatewayServer) async throws in
            server.runs.register(Run(id: "run-a", workflow: "blur", owner: "team-a", itemIDs: [1]))
            #expect(try await send("GET", base.appendingPathComponent("v1/runs/run-a"), key: nil).status == 200)
            #expect(try await send("GET", base.appendingPathComponent("metrics"), key: nil).status == 200)
            // A key sent anyway changes nothing.
            #expect(try await send("GET", base.appendingPathComponent("v1/runs"), key: "igw_x").status == 200)
        }
    }
}
