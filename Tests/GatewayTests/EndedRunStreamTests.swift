import Foundation
import GatewayTestSupport
import JSONValue
import TestSupport
import Testing

@testable import Gateway

/// The event stream of a run that has already ended: its replay and its end, then the response
/// ends; a reconnect at or after the end (what EventSource sends, `Last-Event-ID`) is 204, which
/// makes EventSource stop instead of reconnecting forever.
@Suite("An ended run's event stream", .ownThread)
struct EndedRunStreamTests {
    @Test func theReplayEndsAndAResumeAfterTheEndIs204() async throws {
        try await GatewayHTTP.withGateway(
            invokeAI: try GatewayHTTP.deadUpstream(), configure: { $0.followsUpstreamEvents = false }
        ) { base, server in
            // Registering publishes the run's `run.queued`; its end comes two events later.
            let before = server.events.lastID
            var run = Run(id: "r1", workflow: "w", owner: "", itemIDs: [1])
            run.status = .completed
            run.terminalEventID = EventID(epoch: before.epoch, sequence: before.sequence + 3)
            run.terminalEventData = ["run": "r1", "status": "completed"]
            server.runs.register(run)
            let started = server.events.publish("run.started", run: "r1", workflow: "w", data: ["run": "r1"])
            let ended = server.events.publish("run.completed", run: "r1", workflow: "w", data: ["run": "r1"])
            #expect(ended.id == run.terminalEventID)
            let url = URL(string: "\(base.absoluteString)/v1/runs/r1/events")!

            let replay = try await TestHTTP.send("GET", url)
            #expect(replay.status == 200)
            #expect(replay.text.contains("id: \(started.id)"))
            #expect(replay.text.contains("event: run.completed\nid: \(ended.id)"))

            let fromStart = try await TestHTTP.send("GET", url, headers: ["Last-Event-ID": started.id.description])
            #expect(fromStart.status == 200)
            #expect(!fromStart.text.contains("id: \(started.id)\n"))
            #expect(fromStart.text.contains("id: \(ended.id)"))

            let afterEnd = try await TestHTTP.send("GET", url, headers: ["Last-Event-ID": ended.id.description])
            #expect(afterEnd.status == 204)
            #expect(afterEnd.body.isEmpty)
            #expect(afterEnd.headers["cache-control"] == "no-store")
            // Later ids of this process (other runs' events) are past the end too.
            server.events.publish("node.progress", run: "r2", data: [:])
            let later = try await TestHTTP.send(
                "GET", url, headers: ["Last-Event-ID": server.events.lastID.description])
            #expect(later.status == 204)
            // An id of another process: the client has seen nothing of this one; replay.
            let other = try await TestHTTP.send("GET", url, headers: ["Last-Event-ID": "1-5"])
            #expect(other.status == 200)
            #expect(other.text.contains("id: \(ended.id)"))
        }
    }

    /// A run whose end this process never published (it ended before the gateway started): its
    /// recorded end is sent with the stream's current id, and a resume from there is 204.
    @Test func anEndNotHeldIsSentWithAnIdToResumeFrom() async throws {
        try await GatewayHTTP.withGateway(
            invokeAI: try GatewayHTTP.deadUpstream(), configure: { $0.followsUpstreamEvents = false }
        ) { base, server in
            server.events.publish("upstream.connected", data: [:])
            var run = Run(id: "old", workflow: "w", owner: "", itemIDs: [2])
            run.status = .failed
            run.terminalEventData = ["run": "old", "status": "failed"]
            server.runs.register(run)
            let url = URL(string: "\(base.absoluteString)/v1/runs/old/events")!
            let replay = try await TestHTTP.send("GET", url)
            #expect(replay.status == 200)
            let position = server.events.lastID.description
            #expect(
                replay.text.contains(
                    "event: run.failed\nid: \(position)\ndata: {\"run\":\"old\",\"status\":\"failed\"}"))
            let resumed = try await TestHTTP.send("GET", url, headers: ["Last-Event-ID": position])
            #expect(resumed.status == 204)
        }
    }
}
