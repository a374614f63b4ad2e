import Foundation
import GatewayTestSupport
import JSONValue
import Synchronization
import TestSupport
import Testing

@testable import Gateway

/// `/v1/events` over loopback, with the test publishing into the hub (the run tracker's place).
@Suite("Server-sent events over loopback", .ownThread)
struct EventStreamTests {
    private func gateway<T: Sendable>(
        _ configure: @escaping (inout GatewayConfiguration) -> Void = { _ in },
        _ body: (Int, GatewayServer) async throws -> T
    ) async throws -> T {
        try await GatewayHTTP.withGateway(invokeAI: try GatewayHTTP.deadUpstream(), configure: configure) {
            base, server in
            try await body(base.port!, server)
        }
    }

    /// Waits until the hub has `count` subscribers (a stream's subscription happens server-side).
    private func subscribers(_ server: GatewayServer, _ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while server.events.metrics.subscribers < count {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test func twoSubscribersSeeTheSameOrderedEventsWithFiltersApplied() async throws {
        try await gateway { port, server in
            let a = try await blocking { try SSETestClient(port: port, target: "/v1/events") }
            let b = try await blocking { try SSETestClient(port: port, target: "/v1/events") }
            let runOnly = try await blocking {
                try SSETestClient(port: port, target: "/v1/events?run=r2&type=run.completed,run.failed")
            }
            #expect(a.status == 200)
            #expect(a.headers["content-type"] == "text/event-stream; charset=utf-8")
            try await subscribers(server, 3)
            for n in 1...20 {
                server.events.publish("node.progress", run: n % 2 == 0 ? "r2" : "r1", data: ["n": .int(n)])
            }
            server.events.publish("run.completed", run: "r2", data: ["outputs": []])
            let (seenA, seenB, filtered) = try await blocking {
                (
                    try (0..<21).compactMap { _ in try a.next() }, try (0..<21).compactMap { _ in try b.next() },
                    try runOnly.next()
                )
            }
            #expect(seenA.count == 21)
            #expect(seenA == seenB)
            let sequences = seenA.compactMap { $0.id.flatMap(EventID.init)?.sequence }
            #expect(sequences == Array(1...21))
            #expect(seenA.first?.data == "{\"n\":1}")
            #expect(filtered?.event == "run.completed")
            #expect(a.retry == server.configuration.events.retryMilliseconds)
        }
    }

    @Test func reconnectingWithLastEventIDMissesNothingAndRepeatsNothing() async throws {
        try await gateway { port, server in
            let first = try await blocking { try SSETestClient(port: port, target: "/v1/events") }
            try await subscribers(server, 1)
            for n in 1...5 { server.events.publish("node.progress", run: "r", data: ["n": .int(n)]) }
            let before = try await blocking { try (0..<3).compactMap { _ in try first.next() } }
            let lastID = try #require(before.last?.id)
            // The client drops; more happens meanwhile.
            for n in 6...8 { server.events.publish("node.progress", run: "r", data: ["n": .int(n)]) }
            let resumed = try await blocking {
                try SSETestClient(port: port, target: "/v1/events", headers: ["Last-Event-ID": lastID])
            }
            let rest = try await blocking { try (0..<5).compactMap { _ in try resumed.next() } }
            #expect((before + rest).map(\.data) == (1...8).map { "{\"n\":\($0)}" })
            // The query form works for a first request too (EventSource cannot set headers).
            let viaQuery = try await blocking {
                try SSETestClient(port: port, target: "/v1/events?last_event_id=\(lastID)")
            }
            #expect(try await blocking { try viaQuery.next()?.data } == "{\"n\":4}")
        }
    }

    @Test func anIDOlderThanTheBufferGetsAGapFirst() async throws {
        try await gateway({ $0.events.replayCapacity = 3 }) { port, server in
            for n in 1...6 { server.events.publish("node.progress", run: "r", data: ["n": .int(n)]) }
            let epoch = server.events.epoch
            let client = try await blocking {
                try SSETestClient(port: port, target: "/v1/events", headers: ["Last-Event-ID": "\(epoch)-1"])
            }
            let events = try await blocking { try (0..<4).compactMap { _ in try client.next() } }
            #expect(events.first?.event == "gap")
            #expect(events.first?.data.contains("\"first_held\":\"\(epoch)-4\"") == true)
            #expect(events.dropFirst().map(\.data) == ["{\"n\":4}", "{\"n\":5}", "{\"n\":6}"])
            let bad = try await blocking {
                try SSETestClient(port: port, target: "/v1/events", headers: ["Last-Event-ID": "nonsense"])
            }
            #expect(bad.status == 400)
        }
    }

    @Test func aSlowReaderOverflowsWhileAFastOneKeepsUp() async throws {
        try await gateway({
            $0.events.subscriberQueueLimit = 8; $0.server.streamHighWaterMark = 64 * 1024
        }) { port, server in
            let slow = try await blocking { try SSETestClient(port: port, target: "/v1/events", receiveBuffer: 4096) }
            let fast = try await blocking { try SSETestClient(port: port, target: "/v1/events") }
            try await subscribers(server, 2)
            let payload = String(repeating: "x", count: 16 * 1024)
            let total = 200
            let fastSeen = Mutex(0)
            let fastReader = Task {
                try await blocking { () -> Int in
                    var count = 0
                    while count < total, try fast.next() != nil {
                        count += 1
                        fastSeen.withLock { $0 = count }
                    }
                    return count
                }
            }
            for n in 1...total {
                // The fast reader is never more than 4 events behind (its queue holds 8), however
                // the machine schedules it; the slow one never reads at all.
                try await eventually(within: .seconds(30)) { fastSeen.withLock { $0 } >= n - 4 }
                server.events.publish("node.progress", run: "r", data: ["n": .int(n), "pad": .string(payload)])
            }
            #expect(try await fastReader.value == total)
            // The slow one is cut off: what it got ends with an overflow notice, then the stream ends.
            let slowEvents = try await blocking { () -> [SSETestClient.Event] in
                var events: [SSETestClient.Event] = []
                while let event = try slow.next() { events.append(event) }
                return events
            }
            #expect(slowEvents.last?.event == "overflow")
            #expect(slowEvents.count < total)
            #expect(server.events.metrics.overflows == 1)
        }
    }

    @Test func theSubscriberLimitAnswers503WithRetryAfter() async throws {
        try await gateway({ $0.events.maxSubscribers = 1 }) { port, server in
            let first = try await blocking { try SSETestClient(port: port, target: "/v1/events") }
            try await subscribers(server, 1)
            let second = try await blocking { try SSETestClient(port: port, target: "/v1/events") }
            #expect(first.status == 200)
            #expect(second.status == 503)
            #expect(second.headers["retry-after"] == "5")
        }
    }

    @Test func idleStreamsGetHeartbeatComments() async throws {
        try await gateway({ $0.events.heartbeatInterval = 0.1 }) { port, server in
            let client = try await blocking { try SSETestClient(port: port, target: "/v1/events") }
            try await subscribers(server, 1)
            // Nothing is published: what arrives on the idle stream is the heartbeat comment.
            let comment = try await blocking { try client.nextComment() }
            #expect(comment == "heartbeat")
        }
    }

    @Test func corsIsOffByDefaultAndOnForConfiguredOrigins() async throws {
        try await gateway { port, _ in
            let client = try await blocking {
                try SSETestClient(port: port, target: "/v1/events", headers: ["Origin": "http://app.example"])
            }
            #expect(client.headers["access-control-allow-origin"] == nil)
        }
        try await gateway({ $0.cors = CORSPolicy(allowedOrigins: ["http://app.example"]) }) { port, _ in
            let allowed = try await blocking {
                try SSETestClient(port: port, target: "/v1/events", headers: ["Origin": "http://app.example"])
            }
            let other = try await blocking {
                try SSETestClient(port: port, target: "/v1/events", headers: ["Origin": "http://evil.example"])
            }
            #expect(allowed.headers["access-control-allow-origin"] == "http://app.example")
            #expect(other.headers["access-control-allow-origin"] == nil)
        }
    }
}
