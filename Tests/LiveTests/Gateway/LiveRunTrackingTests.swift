import Foundation
import GatewayTestSupport
import InvokeAI
import JSONValue
import TestSupport
import Testing

@testable import Gateway

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The run tracker and the event fan-out against the harness's InvokeAI: batches tagged with the
/// gateway's destination (enqueued here directly, as a gateway started earlier would have) are
/// followed through InvokeAI's events into `/v1/runs` and `/v1/events`.
@Suite(
    "Live: runs and events from InvokeAI", .enabled(if: !LiveEnvironment.skipRequested, LiveEnvironment.skipReason),
    .serialized)
struct LiveRunTrackingTests {
    static let destination = "gateway-live-tests"

    private func gateway<T: Sendable>(_ body: (URL, GatewayServer) async throws -> T) async throws -> T {
        let upstream = try LiveEnvironment.invokeAIURL()
        return try await GatewayHTTP.withGateway(
            invokeAI: upstream,
            configure: {
                $0.followsUpstreamEvents = true
                $0.destination = Self.destination
            }
        ) { base, server in
            let stream = server.upstreamEvents
            let connected = try await blocking { stream.waitUntilConnected(timeout: 30) }
            try #require(connected, "the gateway's event stream did not connect to InvokeAI")
            return try await body(base, server)
        }
    }

    private func enqueue(_ nodes: [String: JSONValue], edges: [JSONValue] = [], workflow: String, server: GatewayServer)
        async throws -> EnqueueResult
    {
        let batch: JSONValue = [
            "graph": ["id": .string(UUID().uuidString), "nodes": .object(JSONObject(nodes)), "edges": .array(edges)],
            "runs": 1, "origin": .string(RunTracker.origin(for: workflow)), "destination": .string(Self.destination),
        ]
        return try await server.upstream.enqueueBatch(batch)
    }

    private func slowNode(_ id: String, steps: Int, stepMs: Int) -> JSONValue {
        [
            "id": .string(id), "type": "gateway_test_slow", "steps": .int(steps), "step_ms": .int(stepMs),
            "is_intermediate": false, "use_cache": false,
        ]
    }

    private func json(_ url: URL) async throws -> (Int, JSONValue) {
        let (data, response) = try await TestHTTP.data(from: url)
        return (response.statusCode, try JSONDecoder().decode(JSONValue.self, from: data))
    }

    @Test func twoSubscribersFollowASlowRunInOrderAndTheRunIsListed() async throws {
        try await gateway { base, server in
            let port = base.port!
            let a = try await blocking { try SSETestClient(port: port, target: "/v1/events?workflow=slow-steps") }
            let b = try await blocking { try SSETestClient(port: port, target: "/v1/events?workflow=slow-steps") }
            let result = try await enqueue(
                ["slow": slowNode("slow", steps: 5, stepMs: 100)], workflow: "slow-steps", server: server)
            @Sendable func readRun(_ client: SSETestClient) throws -> [SSETestClient.Event] {
                var events: [SSETestClient.Event] = []
                while let event = try client.next() {
                    events.append(event)
                    if event.event?.hasPrefix("run.") == true, event.event != "run.started", event.event != "run.queued"
                    {
                        break
                    }
                }
                return events
            }
            let (seenA, seenB) = try await blocking { (try readRun(a), try readRun(b)) }
            #expect(seenA == seenB)
            let types = seenA.compactMap(\.event)
            #expect(types.first == "run.started")
            #expect(types.last == "run.completed")
            #expect(types.filter { $0 == "node.progress" }.count == 5)
            let percentages = seenA.filter { $0.event == "node.progress" }.compactMap { event -> Double? in
                (try? JSONDecoder().decode(JSONValue.self, from: Data(event.data.utf8)))?["percentage"]?.doubleValue
            }
            #expect(percentages == [0.2, 0.4, 0.6, 0.8, 1.0])
            let (status, run) = try await json(base.appendingPathComponent("v1/runs/\(result.batchId)"))
            #expect(status == 200)
            #expect(run["status"]?.stringValue == "completed")
            #expect(run["workflow"]?.stringValue == "slow-steps")
            let (_, list) = try await json(URL(string: "\(base)/v1/runs?workflow=slow-steps&status=completed")!)
            #expect(list["runs"]?.arrayValue?.contains { $0["id"]?.stringValue == result.batchId } == true)
        }
    }

    @Test func anImageRunReportsItsOutputsWhichDownloadThroughTheGateway() async throws {
        try await gateway { base, server in
            let nodes: [String: JSONValue] = [
                "blank": [
                    "id": "blank", "type": "blank_image", "width": 40, "height": 24, "is_intermediate": true,
                    "use_cache": false,
                ],
                "save": ["id": "save", "type": "save_image", "is_intermediate": false, "use_cache": false],
            ]
            let edges: [JSONValue] = [
                [
                    "source": ["node_id": "blank", "field": "image"],
                    "destination": ["node_id": "save", "field": "image"],
                ]
            ]
            let result = try await enqueue(nodes, edges: edges, workflow: "blank-save", server: server)
            let run = try #require(await waitForEnd(server, result.batchId))
            #expect(run.status == .completed)
            let save = try #require(run.outputs.arrayValue?.first { $0["node"]?.stringValue == "save" })
            let image = try #require(save["images"]?[0])
            #expect(image["width"]?.intValue == 40)
            #expect(image["height"]?.intValue == 24)
            let name = try #require(image["name"]?.stringValue)
            let (data, response) = try await TestHTTP.data(from: base.appendingPathComponent("v1/images/\(name)"))
            let http = response
            #expect(http.statusCode == 200)
            #expect(http.value(forHTTPHeaderField: "Content-Type") == "image/png")
            #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            // IHDR: width and height, big-endian, at bytes 16...23.
            let bytes = Array(data)
            #expect(
                bytes.count > 24
                    && Int(bytes[16]) << 24 | Int(bytes[17]) << 16 | Int(bytes[18]) << 8 | Int(bytes[19]) == 40)
            // Uploading it back: an empty board means uncategorized; a board InvokeAI lacks is the client's error.
            func upload(board: String) async throws -> (Int, JSONValue) {
                var post = URLRequest(url: URL(string: "\(base)/v1/images?board=\(board)")!)
                post.httpMethod = "POST"
                post.setValue("image/png", forHTTPHeaderField: "Content-Type")
                let (body, answer) = try await TestHTTP.upload(for: post, from: data)
                return (answer.statusCode, try JSONDecoder().decode(JSONValue.self, from: body))
            }
            let (uncategorized, copy) = try await upload(board: "")
            #expect(uncategorized == 201)
            #expect(copy["board_id"] == .null)
            let (unknownBoard, problem) = try await upload(board: "no-such-board")
            #expect(unknownBoard == 422)
            #expect(problem["detail"]?.stringValue?.contains("no-such-board") == true)
            let copyName = try #require(copy["name"]?.stringValue)
            try await server.upstream.deleteImage(copyName)
            var delete = URLRequest(url: base.appendingPathComponent("v1/images/\(name)"))
            delete.httpMethod = "DELETE"
            let (_, deleted) = try await TestHTTP.data(for: delete)
            #expect(deleted.statusCode == 204)
            let (_, gone) = try await TestHTTP.data(from: base.appendingPathComponent("v1/images/\(name)"))
            #expect(gone.statusCode == 404)
        }
    }

    @Test func aFailingNodeFailsTheRunWithItsMessage() async throws {
        try await gateway { _, server in
            let message = "live gateway failure \(UUID().uuidString.prefix(8))"
            let node: JSONValue = [
                "id": "fail", "type": "gateway_test_fail", "message": .string(message), "is_intermediate": false,
                "use_cache": false,
            ]
            let result = try await enqueue(["fail": node], workflow: "fails", server: server)
            let run = try #require(await waitForEnd(server, result.batchId))
            #expect(run.status == .failed)
            #expect(run.error?["message"]?.stringValue?.contains(message) == true)
            #expect(run.error?["type"]?.stringValue == "GatewayTestError")
        }
    }

    @Test func cancellingThroughTheGatewayEndsTheRunCanceled() async throws {
        try await gateway { base, server in
            let port = base.port!
            let result = try await enqueue(
                ["slow": slowNode("slow", steps: 300, stepMs: 100)], workflow: "long", server: server)
            // Enqueued behind the gateway's back: the run exists once InvokeAI's first event about it arrived.
            try await eventuallyKnown(server, result.batchId)
            let events = try await blocking {
                try SSETestClient(port: port, target: "/v1/runs/\(result.batchId)/events")
            }
            // Cancel once it is really running.
            _ = try await blocking { () -> SSETestClient.Event? in
                while let event = try events.next() { if event.event == "node.progress" { return event } }
                return nil
            }
            var cancel = URLRequest(url: base.appendingPathComponent("v1/runs/\(result.batchId)"))
            cancel.httpMethod = "DELETE"
            let (_, response) = try await TestHTTP.data(for: cancel)
            #expect(response.statusCode == 202)
            let rest = try await blocking { () -> [String] in
                var types: [String] = []
                while let event = try events.next() { types.append(event.event ?? "") }
                return types
            }
            // The run's own stream ends after its terminal event.
            #expect(rest.last == "run.canceled")
            #expect(server.runs.run(result.batchId)?.status == .canceled)
        }
    }

    @Test func boardsModelsAndQueueReadThroughFromInvokeAI() async throws {
        try await gateway { base, server in
            // Models: the harness installs the tiny SD1.5 model; filters pass through, an empty one is none,
            // one InvokeAI does not know is the client's error with InvokeAI's list of values.
            let (status, all) = try await json(base.appendingPathComponent("v1/models"))
            #expect(status == 200)
            let tiny = all["models"]?.arrayValue?.first { $0["name"]?.stringValue == "tiny-sd15-v1" }
            #expect(tiny?["base"] == "sd-1" && tiny?["type"] == "main")
            let (_, mains) = try await json(URL(string: "\(base)/v1/models?type=main&base=sd-1")!)
            #expect(mains["models"]?.arrayValue?.contains { $0["name"]?.stringValue == "tiny-sd15-v1" } == true)
            let (_, vaes) = try await json(URL(string: "\(base)/v1/models?type=vae")!)
            #expect(vaes["models"]?.arrayValue?.allSatisfy { $0["type"] == "vae" } == true)
            let (_, unfiltered) = try await json(URL(string: "\(base)/v1/models?type=")!)
            #expect(unfiltered["models"]?.arrayValue?.count == all["models"]?.arrayValue?.count)
            let (bogus, problem) = try await json(URL(string: "\(base)/v1/models?type=bogus")!)
            #expect(bogus == 422)
            #expect(problem["upstream_detail"]?.arrayValue?.isEmpty == false)

            // Boards: one made in InvokeAI is listed by the gateway at once.
            let name = "live-read-through-\(UUID().uuidString.prefix(6))"
            let board = try await server.upstream.createBoard(name: name)
            let boardID = try #require(board["board_id"]?.stringValue)
            let (_, boards) = try await json(base.appendingPathComponent("v1/boards"))
            #expect(
                boards["boards"]?.arrayValue?.contains {
                    $0["board_id"]?.stringValue == boardID && $0["board_name"]?.stringValue == name
                } == true)
            _ = try await server.upstream.deleteBoard(boardID)

            // Queue: InvokeAI's counts, and this gateway's own by its destination, which grow with a batch of ours.
            let result = try await enqueue(
                ["slow": slowNode("slow", steps: 40, stepMs: 50)], workflow: "slow-steps", server: server)
            let (queueStatus, queue) = try await json(base.appendingPathComponent("v1/queue"))
            #expect(queueStatus == 200)
            #expect(queue["destination"]?.stringValue == Self.destination)
            let ours = (queue["gateway"]?["pending"]?.intValue ?? 0) + (queue["gateway"]?["in_progress"]?.intValue ?? 0)
            #expect(ours >= 1)
            #expect(queue["queue"]?["queue"]?["queue_id"] == "default")
            _ = try await server.upstream.cancelBatches([result.batchId])
            #expect(await waitForEnd(server, result.batchId)?.status == .canceled)
        }
    }

    private func eventuallyKnown(_ server: GatewayServer, _ id: String) async throws {
        for _ in 0..<600 where server.runs.run(id) == nil { try await Task.sleep(for: .milliseconds(50)) }
        try #require(server.runs.run(id) != nil, "run \(id) never showed up in the tracker")
    }

    private func waitForEnd(_ server: GatewayServer, _ id: String) async -> Run? {
        // The run appears once InvokeAI's first event about it arrives.
        for _ in 0..<200 where server.runs.run(id) == nil { try? await Task.sleep(for: .milliseconds(50)) }
        return await server.runs.wait(id, timeout: 60)
    }
}
