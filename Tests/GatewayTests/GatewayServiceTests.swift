import Foundation
import GatewayTestSupport
import HTTPServer
import TestSupport
import Testing

@testable import Gateway

/// The server owns its services' background work: started with it, and stopped, not left
/// running, when it shuts down.
@Suite struct GatewayServiceTests {
    @Test func shutdownStopsTheServicesAndAnswersWhatStillWaits() async throws {
        let server = try GatewayServer(
            configuration: GatewayConfiguration(
                server: HTTPServerConfiguration(host: "127.0.0.1", port: 0, eventLoopCount: 1),
                invokeAIURL: try GatewayHTTP.deadUpstream(), followsUpstreamEvents: false))
        try server.start()
        let waiting: Task<Run?, Never>
        do {
            // The tracker's queue runs: a scheduled job is done.
            let log = JobQueueTests.Log()
            server.runs.jobs.schedule(after: .milliseconds(1), .inline { log.add("done") })
            try await eventually { log.all == ["done"] }
            server.runs.register(Run(id: "batch-1", workflow: "blur", itemIDs: [1]))
            waiting = Task { await server.runs.wait("batch-1", timeout: 300) }
            try await eventually { server.runs.waiterCount == 1 }
        } catch {
            await server.shutdown() // a server left running outlives the test
            throw error
        }
        await server.shutdown()
        #expect(await waiting.value?.status == .queued) // answered, not left waiting
        // Every service's queue has stopped: nothing submitted now would ever run.
        #expect(!server.runs.jobs.submit {})
        #expect(!server.runs.cleaner.jobs.submit {})
        #expect(!server.catalog.jobs.submit {})
    }
}
