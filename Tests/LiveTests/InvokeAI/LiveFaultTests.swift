import Foundation
import InvokeAI
import JSONValue
import Testing

/// InvokeAI killed mid-run and started again (same root, port): the stream reconnects alone and
/// the run's final state is reported exactly once. Multi-user InvokeAI: 401 without a token,
/// works after login, events flow. (Part of the serialized live suite: the restart must not
/// overlap another live test.)
extension LiveInvokeAITests {
    static let repository = LiveEnvironment.repositoryRoot

    struct MissingHarness: Error, CustomStringConvertible {
        var name: String
        var description: String {
            "\(name) is not set: run with scripts/invokeai-harness run --with-multiuser -- swift test"
        }
    }

    private func environment(_ name: String) throws -> String {
        guard let value = LiveEnvironment.variables[name], !value.isEmpty else { throw MissingHarness(name: name) }
        return value
    }

    @Test func killAndRestartMidRunIsReconciled() async throws {
        let statePath = try environment("INVOKEAI_HARNESS_STATE")
        let client = try LiveInvokeAI.client()
        let recorder = EventRecorder()
        let changes = LockedList<InvokeAIEventStreamState>()
        let stream = InvokeAIEventStream(
            client: client,
            configuration: InvokeAIEventStreamConfiguration(reconnectInitialDelay: 0.2, reconnectMaxDelay: 1),
            onEvent: { recorder.record($0) }, onStateChange: { changes.append($0) },
            reconcile: { await recorder.reconcile(using: client) })
        stream.start()
        defer { stream.stop(timeout: 5) }
        #expect(await recorder.wait(timeout: 20) { stream.state.connected })

        let destination = LiveInvokeAI.unique("restart")
        let result = try await client.enqueueBatch(
            LiveInvokeAI.slowBatch(steps: 300, stepMs: 100, label: destination, destination: destination))
        let item = try #require(result.itemIds.first)
        recorder.track([item])
        #expect(
            await recorder.wait(timeout: 60) {
                recorder.events(for: item).contains { $0.name == "invocation_progress" }
            })

        let restart = Process()
        restart.executableURL = Self.repository.appendingPathComponent("scripts/invokeai-harness")
        restart.arguments = ["restart", "--state", statePath, "--kill", "--down", "1"]
        try restart.run()
        #expect(
            await recorder.wait(timeout: 10) { !stream.state.connected },
            "the stream did not notice InvokeAI going away")
        let finished = await recorder.wait(timeout: 180) { !restart.isRunning }
        #expect(finished && restart.terminationStatus == 0, "harness restart failed")

        let back = await recorder.wait(timeout: 60) { stream.state.connected && stream.state.reconnectCount >= 1 }
        #expect(back, "no reconnect: \(stream.state)")
        let reported = await recorder.wait(timeout: 30) { recorder.terminalStatus(of: item) != nil }
        #expect(reported, "the run's final state was never reported")
        let truth = try await client.queueItem(item)
        #expect(truth.status.isTerminal)
        #expect(recorder.terminalStatus(of: item) == truth.status)
        #expect(recorder.reconciles >= 2)
        // Give late events a moment, then: nothing reported twice by the stream itself.
        try await Task.sleep(nanoseconds: 500_000_000)
        let statusEvents = recorder.events(for: item).filter {
            if case .queueItemStatusChanged(let change) = $0 { change.status.isTerminal } else { false }
        }
        #expect(statusEvents.count <= 1)
        let seen = changes.items.map(\.connected)
        #expect(seen.starts(with: [true, false]) && seen.last == true, "state changes \(seen)")

        // And the queue works again after the restart, with events.
        let next = try await client.enqueueBatch(
            LiveInvokeAI.slowBatch(steps: 2, stepMs: 10, label: destination + "-after", destination: destination))
        let nextItem = try #require(next.itemIds.first)
        recorder.track([nextItem])
        #expect(await recorder.wait(timeout: 60) { recorder.terminalStatus(of: nextItem) == .completed })
    }

    @Test func multiUserInvokeAINeedsLogin() async throws {
        let url = try #require(URL(string: try environment("INVOKEAI_MULTIUSER_URL")))
        let email = try environment("INVOKEAI_MULTIUSER_EMAIL"),
            password = try environment("INVOKEAI_MULTIUSER_PASSWORD")

        let anonymous = InvokeAIClient(configuration: InvokeAIClientConfiguration(baseURL: url))
        do {
            _ = try await anonymous.queueStatus()
            Issue.record("multi-user InvokeAI answered without a token")
        } catch {
            #expect(error.statusCode == 401)
        }
        let wrong = InvokeAIClient(
            configuration: InvokeAIClientConfiguration(
                baseURL: url, auth: .login(email: email, password: "wrong-password")))
        do {
            _ = try await wrong.queueStatus()
            Issue.record("wrong password accepted")
        } catch {
            guard case .authenticationFailed = error else {
                Issue.record("expected authenticationFailed, got \(error)"); return
            }
        }
        let anonymousEvents = InvokeAIEventStream(
            client: anonymous, configuration: InvokeAIEventStreamConfiguration(reconnectInitialDelay: 0.2),
            onEvent: { _ in })
        anonymousEvents.start()
        try await Task.sleep(nanoseconds: 1_500_000_000)
        #expect(!anonymousEvents.state.connected && anonymousEvents.state.failedAttempts >= 1)
        #expect(
            anonymousEvents.state.lastError?.contains("refused") == true, "\(anonymousEvents.state.lastError ?? "")")
        await anonymousEvents.stop()

        let client = InvokeAIClient(
            configuration: InvokeAIClientConfiguration(baseURL: url, auth: .login(email: email, password: password)))
        #expect(try await client.queueStatus()["queue"]?["queue_id"] == "default")
        let recorder = EventRecorder()
        let stream = InvokeAIEventStream(
            client: client, onEvent: { recorder.record($0) }, reconcile: { await recorder.reconcile(using: client) })
        stream.start()
        defer { stream.stop(timeout: 5) }
        #expect(await recorder.wait(timeout: 20) { stream.state.connected }, "\(stream.state)")
        let destination = LiveInvokeAI.unique("multiuser")
        let item = try #require(
            try await client.enqueueBatch(
                LiveInvokeAI.slowBatch(steps: 3, stepMs: 50, label: destination, destination: destination)
            ).itemIds.first)
        recorder.track([item])
        #expect(await recorder.wait(timeout: 60) { recorder.terminalStatus(of: item) == .completed })
        #expect(recorder.events(for: item).filter { $0.name == "invocation_progress" }.count == 3)

        // A fixed token works too; a bad one is refused.
        let token = try #require(try await client.bearerToken())
        let fixed = InvokeAIClient(configuration: InvokeAIClientConfiguration(baseURL: url, auth: .token(token)))
        #expect(try await fixed.queueItem(item).status == .completed)
        let forged = InvokeAIClient(
            configuration: InvokeAIClientConfiguration(baseURL: url, auth: .token("not-a-token")))
        await #expect(throws: InvokeAIError.self) { _ = try await forged.queueItem(item) }
    }
}

final class LockedList<Element: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Element] = []
    func append(_ element: Element) { lock.withLock { storage.append(element) } }
    var items: [Element] { lock.withLock { storage } }
}
