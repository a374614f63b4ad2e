import Foundation
import GatewayTestSupport
import Synchronization
import TestSupport
import Testing

@testable import Gateway

/// All event-stream subscribers together hold at most `maxQueuedBytes`: past it the largest
/// backlogs (clients that do not read) are dropped, and those that keep up stay.
@Suite("Event byte budget", .ownThread)
struct EventBudgetTests {
    @Test func theLargestBacklogsGoFirst() {
        let chosen = EventHub.slowest([("a", 10), ("b", 500), ("c", 0), ("d", 300)], total: 810, budget: 400)
        #expect(chosen == ["b"])
        #expect(EventHub.slowest([("a", 10), ("b", 500), ("d", 300)], total: 810, budget: 5) == ["b", "d", "a"])
        #expect(EventHub.slowest([("a", 10)], total: 10, budget: 400).isEmpty)
    }

    @Test(.timeLimit(.minutes(2))) func nonReadingSubscribersAreDroppedWhileAReaderKeepsUp() async throws {
        let budget = 2 << 20
        try await GatewayHTTP.withGateway(
            invokeAI: try GatewayHTTP.deadUpstream(),
            configure: {
                $0.followsUpstreamEvents = false
                $0.events.maxQueuedBytes = budget
                // Their own queues are no limit here: only the budget in total is.
                $0.events.subscriberQueueLimit = 1_000_000
            }
        ) { base, server in
            let port = base.port!
            var stuck: [SSETestClient] = []
            for _ in 0..<3 {
                stuck.append(
                    try await blocking { try SSETestClient(port: port, target: "/v1/events", receiveBuffer: 4096) })
            }
            let reader = try await blocking { try SSETestClient(port: port, target: "/v1/events") }
            try await eventually(within: .seconds(10)) { server.events.metrics.subscribers == 4 }
            let payload = String(repeating: "x", count: 32 * 1024)
            let total = 600 // ~19 MB for each subscriber: far past the kernel's socket buffers
            let seen = Mutex(0)
            let reading = Task {
                try await blocking { () -> Int in
                    var count = 0
                    while count < total, try reader.next() != nil {
                        count += 1
                        seen.withLock { $0 = count }
                    }
                    return count
                }
            }
            var peak = 0
            for n in 1...total {
                try await eventually(within: .seconds(30)) { seen.withLock { $0 } >= n - 16 }
                server.events.publish("node.progress", run: "r", data: ["n": .int(n), "pad": .string(payload)])
                peak = max(peak, server.events.metrics.queuedBytes)
            }
            #expect(try await reading.value == total)
            let metrics = server.events.metrics
            #expect(metrics.budgetDrops == 3)
            #expect(metrics.subscribers == 1)
            // Never more than the budget and the event that passed it, for each subscriber at most.
            #expect(peak <= budget + 4 * (payload.utf8.count + 256), "peak \(peak)")
            // The dropped clients' connections are closed, not left to time out.
            for client in stuck {
                let ended = try await blocking { () -> Bool in
                    while try client.next() != nil {}
                    return true
                }
                #expect(ended)
            }
            try await eventually(within: .seconds(10)) { server.events.metrics.queuedBytes < budget }
            let text = try await TestHTTP.send("GET", base.appendingPathComponent("metrics")).text
            #expect(text.contains(#"gateway_event_subscribers_dropped_total{reason="budget"} 3"#))
        }
    }
}
