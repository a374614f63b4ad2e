import Foundation
import InvokeAI
import JSONValue
import Testing

/// Against the harness's InvokeAI (`scripts/invokeai-harness run [--with-multiuser] -- swift test`).
/// Serialized: the tests share one queue, and one of them restarts InvokeAI.
@Suite(.serialized, .disabled(if: LiveEnvironment.skipRequested, LiveEnvironment.skipReason))
struct LiveInvokeAITests {
    /// A connected stream whose events and reconciles go to a fresh recorder.
    private func connectedStream(_ client: InvokeAIClient) async throws -> (InvokeAIEventStream, EventRecorder) {
        let recorder = EventRecorder()
        let stream = InvokeAIEventStream(
            client: client, onEvent: { recorder.record($0) },
            reconcile: { await recorder.reconcile(using: client) })
        stream.start()
        let connected = await recorder.wait(timeout: 20) { stream.state.connected }
        #expect(connected, "event stream did not connect: \(stream.state.lastError ?? "no error")")
        return (stream, recorder)
    }

    @Test func slowRunReportsStartedProgressCompleteInOrder() async throws {
        let client = try LiveInvokeAI.client()
        #expect(try await client.appVersion() == "6.14.2")
        let (stream, recorder) = try await connectedStream(client)
        defer { stream.stop(timeout: 5) }
        let destination = LiveInvokeAI.unique("slow")
        let result = try await client.enqueueBatch(
            LiveInvokeAI.slowBatch(steps: 5, stepMs: 100, label: destination, destination: destination))
        #expect(result.itemIds.count == 1 && !result.recovered)
        let item = try #require(result.itemIds.first)
        recorder.track([item])
        let ended = await recorder.wait(timeout: 60) { recorder.terminalStatus(of: item) != nil }
        #expect(ended, "no terminal status for item \(item)")
        #expect(recorder.terminalStatus(of: item) == .completed)

        let events = recorder.events(for: item)
        let names = events.map(\.name).filter { $0.hasPrefix("invocation_") }
        #expect(
            names == ["invocation_started"] + Array(repeating: "invocation_progress", count: 5) + [
                "invocation_complete"
            ])
        let progress = events.compactMap { event -> InvocationProgress? in
            if case .invocationProgress(let info, let p) = event, info.sourceNodeId == "slow" {
                return p
            } else {
                return nil
            }
        }
        #expect(progress.map(\.message) == (1...5).map { "step \($0)/5" })
        #expect(progress.compactMap(\.percentage) == [0.2, 0.4, 0.6, 0.8, 1.0])
        let statuses = events.compactMap { event -> QueueItemStatus? in
            if case .queueItemStatusChanged(let change) = event { return change.status } else { return nil }
        }
        #expect(statuses.last == .completed && statuses.contains(.inProgress))
        if case .invocationComplete(_, let output)? = events.last(where: { $0.name == "invocation_complete" }) {
            #expect(output["value"] == 5)
        } else {
            Issue.record("no invocation_complete")
        }
        let read = try await client.queueItem(item)
        #expect(read.status == .completed && read.destination == destination && read.origin == "invokeai-tests")
        #expect(read.results(forNode: "slow").first?["value"] == 5)
        let batch = try await client.batchStatus(result.batchId)
        #expect(batch.counts[.completed] == 1 && batch.total == 1 && batch.destination == destination)
        let counts = try await client.queueCounts(destination: destination)
        #expect(counts["completed"] == 1)
        let byIds = try await client.queueItems(ids: [item])
        #expect(byIds.map(\.itemId) == [item])
        #expect(try await client.queueStatus()["queue"]?["queue_id"] == "default")
    }

    @Test func cancelInTheMiddleEndsCanceled() async throws {
        let client = try LiveInvokeAI.client()
        let (stream, recorder) = try await connectedStream(client)
        defer { stream.stop(timeout: 5) }
        let destination = LiveInvokeAI.unique("cancel")
        let result = try await client.enqueueBatch(
            LiveInvokeAI.slowBatch(steps: 200, stepMs: 50, label: destination, destination: destination))
        let item = try #require(result.itemIds.first)
        recorder.track([item])
        let running = await recorder.wait(timeout: 60) {
            recorder.events(for: item).contains { $0.name == "invocation_progress" }
        }
        #expect(running, "the slow node never reported progress")
        let answer = try await client.cancelQueueItem(item)
        #expect(answer.itemId == item)
        let ended = await recorder.wait(timeout: 30) { recorder.terminalStatus(of: item) != nil }
        #expect(ended)
        #expect(recorder.terminalStatus(of: item) == .canceled)
        #expect(try await client.queueItem(item).status == .canceled)
        let names = Set(recorder.events(for: item).map(\.name))
        #expect(!names.contains("invocation_error") && !names.contains("invocation_complete"))
        // The by-batch and by-destination cancels answer with counts (nothing left to cancel here).
        #expect(try await client.cancelBatches([result.batchId]) == 0)
        #expect(try await client.cancelByDestination(destination) == 0)
    }

    @Test func cancelByDestinationAndBatch() async throws {
        let client = try LiveInvokeAI.client()
        let destination = LiveInvokeAI.unique("bulk-cancel")
        // A long one runs; two more wait behind it: cancel by batch ids, then by destination.
        let first = try await client.enqueueBatch(
            LiveInvokeAI.slowBatch(steps: 200, stepMs: 50, label: destination + "a", destination: destination))
        let second = try await client.enqueueBatch(
            LiveInvokeAI.slowBatch(steps: 1, stepMs: 0, label: destination + "b", destination: destination))
        #expect(try await client.cancelBatches([second.batchId]) == 1)
        #expect(try await client.cancelByDestination(destination) == 1)
        #expect(try await client.queueItem(try #require(first.itemIds.first)).status == .canceled)
        #expect(try await client.queueItem(try #require(second.itemIds.first)).status == .canceled)
    }

    @Test func failingNodeReportsItsError() async throws {
        let client = try LiveInvokeAI.client()
        let (stream, recorder) = try await connectedStream(client)
        defer { stream.stop(timeout: 5) }
        let message = "planned failure \(UUID().uuidString.prefix(6))"
        let batch: JSONValue = [
            "graph": [
                "id": "fail",
                "nodes": ["boom": ["id": "boom", "type": "gateway_test_fail", "message": .string(message)]],
                "edges": [],
            ],
            "runs": 1, "origin": "invokeai-tests", "destination": .string(LiveInvokeAI.unique("fail")),
        ]
        let item = try #require(try await client.enqueueBatch(batch).itemIds.first)
        recorder.track([item])
        @Sendable func errors() -> [(InvocationInfo, InvocationFailure)] {
            recorder.events(for: item).compactMap { event -> (InvocationInfo, InvocationFailure)? in
                if case .invocationError(let info, let failure) = event { return (info, failure) } else { return nil }
            }
        }
        // InvokeAI may report the failed status before the invocation_error event: wait for both.
        let ended = await recorder.wait(timeout: 60) { recorder.terminalStatus(of: item) != nil && !errors().isEmpty }
        #expect(ended)
        #expect(recorder.terminalStatus(of: item) == .failed)
        let errors = errors()
        #expect(errors.count == 1)
        #expect(errors.first?.0.sourceNodeId == "boom")
        #expect(errors.first?.1.errorType == "GatewayTestError" && errors.first?.1.errorMessage == message)
        let read = try await client.queueItem(item)
        #expect(
            read.status == .failed && read.failure?.errorMessage == message
                && read.failure?.errorType == "GatewayTestError")
    }

    @Test func invalidGraphIsRefusedWithThePydanticList() async throws {
        let client = try LiveInvokeAI.client()
        let batch: JSONValue = [
            "graph": [
                "id": "bad", "nodes": ["slow": ["id": "slow", "type": "gateway_test_slow", "steps": 0]], "edges": [],
            ],
            "runs": 1, "origin": "invokeai-tests", "destination": .string(LiveInvokeAI.unique("invalid")),
        ]
        do {
            _ = try await client.enqueueBatch(batch)
            Issue.record("steps 0 was accepted")
        } catch {
            #expect(error.statusCode == 422)
            let errors = try #require(error.validationErrors)
            #expect(errors.contains { ($0["loc"]?.arrayValue ?? []).contains("steps") })
        }
        do {
            _ = try await client.queueItem(999_999_999)
            Issue.record("a missing item was found")
        } catch {
            #expect(error.statusCode == 404)
        }
    }

    @Test func imageUploadDownloadDelete() async throws {
        let client = try LiveInvokeAI.client()
        let board = try await client.createBoard(name: LiveInvokeAI.unique("tests"))
        let boardId = try #require(board["board_id"]?.stringValue)
        let png = TinyPNG.make(width: 40, height: 24, seed: UInt8.random(in: 0...255))
        let image = try await client.uploadImage(png, fileName: "tiny.png", boardId: boardId)
        #expect(image.width == 40 && image.height == 24 && image.boardId == boardId)
        #expect(try await client.boardImageNames(boardId) == [image.name])
        #expect(try await client.imageNames(boardId: boardId) == [image.name])
        #expect(try await !client.imageNames(boardId: "none").contains(image.name))
        #expect(try await client.boards().contains { $0["board_id"]?.stringValue == boardId })

        // InvokeAI decodes an upload and saves it again with PIL, so what comes back is its own
        // encoding of the same pixels (same size). Uploading that encoding again must then come
        // back byte for byte, through both the buffered and the streamed download.
        let (encoded, type) = try await client.imageData(image.name)
        #expect(type == "image/png")
        #expect(TinyPNG.size(of: encoded).map { [$0.0, $0.1] } == [40, 24])
        let again = try await client.uploadImage(encoded, fileName: "again.png", boardId: boardId)
        let (inMemory, _) = try await client.imageData(again.name)
        #expect(inMemory == encoded, "re-uploaded InvokeAI PNG came back different")
        let (file, _, length) = try await client.downloadImage(again.name)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try Data(contentsOf: file) == encoded && length == Int64(encoded.count))
        let (thumbnail, _) = try await client.imageData(image.name, size: .thumbnail)
        #expect(!thumbnail.isEmpty)
        _ = try await client.imageMetadata(image.name)
        #expect(try await client.image(image.name).name == image.name)

        try await client.deleteImage(image.name)
        try await client.deleteImage(again.name)
        do {
            _ = try await client.imageData(image.name)
            Issue.record("deleted image still downloads")
        } catch {
            #expect(error.statusCode == 404)
        }
        try await client.deleteBoard(boardId)
        #expect(try await !client.boards().contains { $0["board_id"]?.stringValue == boardId })
    }

    @Test func modelsWorkflowsAndOpenAPI() async throws {
        let client = try LiveInvokeAI.client()
        let models = try await client.models(base: "sd-1", type: "main")
        #expect(models.contains { $0["name"]?.stringValue?.hasPrefix("tiny-sd15") == true })
        let page = try await client.workflows(categories: ["default"])
        let items = try #require(page["items"]?.arrayValue)
        #expect(items.count >= 20)
        let id = try #require(items.first?["workflow_id"]?.stringValue)
        #expect(try await client.workflow(id)["workflow"]?["nodes"] != nil)
        let spec = try await client.openAPI()
        #expect(spec["paths"]?["/api/v1/queue/{queue_id}/enqueue_batch"] != nil)
    }

    @Test func connectionErrorsAreTyped() async throws {
        // A port nothing listens on: connection refused, after the bounded retries.
        let probe = try #require(URL(string: "http://127.0.0.1:9"))
        let client = InvokeAIClient(
            configuration: InvokeAIClientConfiguration(
                baseURL: probe, requestTimeout: 5,
                retry: RetryPolicy(maxAttempts: 2, initialDelay: 0.01)))
        do {
            _ = try await client.appVersion()
            Issue.record("port 9 answered")
        } catch {
            guard case .cannotConnect = error else { Issue.record("expected cannotConnect, got \(error)"); return }
        }
    }
}
