import Foundation
import GatewayTestSupport
import InvokeAI
import JSONValue
import TestSupport
import Testing

@testable import Gateway

/// What the gateway says of a run is what InvokeAI did, against the harness's InvokeAI: each
/// situation of the run-truth issue, checked in the run, its per-run stream, `?wait` and after
/// a gateway restart. A node that waits for a file lets a test decide when a run ends.
@Suite("Live: run truth", .enabled(if: !LiveEnvironment.skipRequested, LiveEnvironment.skipReason), .serialized)
struct LiveRunTruthTests {
    let send = LiveGateway.send
    let json = LiveGateway.json

    /// Workflows of this suite: a node waiting for a file, a node type InvokeAI does not know.
    static func folder() throws -> String {
        try LiveGateway.workflowFolder([
            "wait-file": LiveGateway.oneNodeWorkflow(
                "gateway_test_wait_file", fields: [("path", ""), ("timeout_s", 120)]),
            "unknown-node": LiveGateway.oneNodeWorkflow("gateway_test_no_such_node", fields: [("value", 1)]),
        ])
    }

    /// A file path no one has written yet, and a way to write it (which ends the waiting node).
    struct Gate {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-gate-\(UUID().uuidString)")
            .path
        func open() { _ = FileManager.default.createFile(atPath: path, contents: Data("open".utf8)) }
    }

    @Test func aPendingRunCanceledEndsCanceledInTheRunItsStreamAndItsWait() async throws {
        let folder = try Self.folder()
        try await LiveGateway.with(workflows: folder) { base, server in
            let gate = Gate()
            defer { gate.open() }
            // The first run holds InvokeAI's queue; the second stays pending behind it.
            let (first, _, blockerBody) = try await send(
                "POST", base.appendingPathComponent("v1/workflows/wait-file/runs"),
                ["inputs": ["0": .string(gate.path)]], nil, [:])
            #expect(first == 202)
            let blocker = try #require(try json(blockerBody)["id"]?.stringValue)
            try await eventually(within: .seconds(60)) { server.runs.run(blocker)?.status == .running }
            let key = ["Idempotency-Key": "pending-\(UUID().uuidString)"]
            let (_, _, body) = try await send(
                "POST", base.appendingPathComponent("v1/workflows/slow-steps/runs"), ["inputs": ["0": 1, "1": 1]], nil,
                key)
            let pending = try #require(try json(body)["id"]?.stringValue)
            #expect(server.runs.run(pending)?.status == .queued)

            let port = base.port!
            let stream = try await blocking { try SSETestClient(port: port, target: "/v1/runs/\(pending)/events") }
            // The same request again, waiting for the run's end (the key makes it the same run).
            let send = self.send
            let waiting = Task {
                try await send(
                    "POST", URL(string: "\(base)/v1/workflows/slow-steps/runs?wait=120")!,
                    ["inputs": ["0": 1, "1": 1]], nil, key)
            }
            try await eventually { server.runs.waiterCount == 1 }
            let started = ContinuousClock.now
            let (canceled, _, _) = try await send(
                "DELETE", base.appendingPathComponent("v1/runs/\(pending)"), nil, nil, [:])
            #expect(canceled == 202)
            let (waited, _, answer) = try await waiting.value
            #expect(waited == 200)
            #expect(try json(answer)["status"] == "canceled")
            let run = await server.runs.wait(pending, timeout: 60)
            #expect(run?.status == .canceled)
            #expect(
                ContinuousClock.now - started < .seconds(30),
                "the canceled run did not end while the first run still held the queue")
            // Its stream ends with exactly one terminal event.
            let events = try await blocking { () throws -> [SSETestClient.Event] in
                var seen: [SSETestClient.Event] = []
                while let event = try stream.next() { seen.append(event) }
                return seen
            }
            #expect(
                events.compactMap(\.event).filter { $0.hasPrefix("run.") && $0 != "run.queued" } == ["run.canceled"])
            #expect(
                try await InvokeAIClient(baseURL: try LiveEnvironment.invokeAIURL()).batchStatus(pending).counts[
                    .canceled] == 1)
            gate.open()
            #expect(await server.runs.wait(blocker, timeout: 120)?.status == .completed)
        }
    }

    @Test func aWorkflowThatCannotRunHereIsRefusedBeforeAnythingIsEnqueued() async throws {
        let folder = try Self.folder()
        try await LiveGateway.with(workflows: folder) { base, server in
            let (described, _, detail) = try await send(
                "GET", base.appendingPathComponent("v1/workflows/unknown-node"), nil, nil, [:])
            #expect(described == 200)
            let workflow = try json(detail)
            #expect(workflow["runnable"] == false)
            #expect(workflow["issues"]?[0]?["node"] == "node")
            #expect(workflow["issues"]?[0]?["message"]?.stringValue?.contains("gateway_test_no_such_node") == true)
            let (_, _, list) = try await send("GET", base.appendingPathComponent("v1/workflows"), nil, nil, [:])
            let summary = try json(list)["workflows"]?.arrayValue?.first { $0["name"] == "unknown-node" }
            #expect(summary?["runnable"] == false)
            #expect(try json(list)["workflows"]?.arrayValue?.first { $0["name"] == "blank-blur" }?["runnable"] == true)

            let (status, _, problem) = try await send(
                "POST", base.appendingPathComponent("v1/workflows/unknown-node/runs"), ["inputs": ["0": 2]], nil, [:])
            #expect(status == 422)
            #expect(
                try json(problem)["errors"]?.arrayValue?.contains {
                    $0["kind"] == "unknown_node_type"
                        || ($0["message"]?.stringValue?.contains("gateway_test_no_such_node") ?? false)
                } == true)
            let counts = try await InvokeAIClient(baseURL: try LiveEnvironment.invokeAIURL()).queueCounts(
                destination: server.runs.destination)
            #expect(counts["total"] == 0)
        }
    }

    @Test func storedModelReferencesResolveByNameOrAreRefusedWithTheCandidates() async throws {
        let client = InvokeAIClient(baseURL: try LiveEnvironment.invokeAIURL())
        let models = try await client.models(base: "sd-1", type: "main")
        let tiny = try #require(models.first)
        // The library's SD1.5 workflow, with the model reference another machine would have stored.
        let folder = try Self.folder()
        try await LiveGateway.with(workflows: folder) { base, _ in
            let (_, _, definition) = try await send(
                "GET", base.appendingPathComponent("v1/workflows/text-to-image-sd1-5/definition"), nil, nil, [:])
            /// The definition with `stored` as the model loader's stored `model` value.
            func withStoredModel(_ stored: JSONValue) throws -> JSONValue {
                guard case .object(var root) = try json(definition), case .array(var nodes)? = root["nodes"] else {
                    throw LiveGateway.Unexpected(why: "the SD1.5 definition has no nodes list")
                }
                for (i, node) in nodes.enumerated() where node["data"]?["type"] == "main_model_loader" {
                    guard case .object(var outer) = node, case .object(var data)? = outer["data"],
                        case .object(var inputs)? = data["inputs"],
                        case .object(var field)? = inputs["model"]
                    else { continue }
                    field["value"] = stored
                    inputs["model"] = .object(field)
                    data["inputs"] = .object(inputs)
                    outer["data"] = .object(data)
                    nodes[i] = .object(outer)
                }
                root["nodes"] = .array(nodes)
                return .object(root)
            }
            let foreign: JSONValue = [
                "key": "key-from-another-machine", "hash": "blake3:0", "name": tiny["name"] ?? "", "base": "sd-1",
                "type": "main",
            ]
            #expect(
                try await send(
                    "PUT", base.appendingPathComponent("v1/workflows/foreign-model/definition"),
                    try withStoredModel(foreign), nil, [:]
                ).0 == 201)
            let (_, _, described) = try await send(
                "GET", base.appendingPathComponent("v1/workflows/foreign-model"), nil, nil, [:])
            #expect(try json(described)["runnable"] == true)
            #expect(try json(described)["models"]?[0]?["resolved_by"] == "name")

            let (status, _, body) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/foreign-model/runs?wait=180")!,
                ["inputs": ["Width": 64, "Height": 64]], nil, [:])
            #expect(status == 200)
            let run = try json(body)
            #expect(run["status"] == "completed", "\(run)")
            #expect(run["models"]?[0]?["resolved"]?["key"] == tiny["key"])

            let unknown: JSONValue = [
                "key": "nope", "hash": "blake3:0", "name": "a model nobody installed", "base": "sd-1", "type": "main",
            ]
            #expect(
                try await send(
                    "PUT", base.appendingPathComponent("v1/workflows/missing-model/definition"),
                    try withStoredModel(unknown), nil, [:]
                ).0 == 201)
            let (refused, _, problem) = try await send(
                "POST", base.appendingPathComponent("v1/workflows/missing-model/runs"), ["inputs": [:]], nil, [:])
            #expect(refused == 422)
            let error = try json(problem)["errors"]?.arrayValue?.first { $0["kind"] == "unresolved_model" }
            #expect(
                error?["candidates"]?.arrayValue?.contains { $0["key"] == tiny["key"] } == true,
                "\(String(decoding: problem, as: UTF8.self))")
            // Allowed to use any model of the same base and type, it runs.
            let (allowed, _, anyBody) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/missing-model/runs?wait=180")!,
                ["inputs": ["Width": 64, "Height": 64], "models": "any"], nil, [:])
            #expect(allowed == 200)
            #expect(try json(anyBody)["models"]?[0]?["resolved_by"] == "any")
        }
    }

    @Test func twoRunsWithTheSameInputsOwnTheirOutputsSoOnesCleanupLeavesTheOther() async throws {
        try await LiveGateway.with { base, server in
            let request: JSONValue = ["inputs": ["0": 8, "1": 8, "2": "#102030"]]
            let (_, _, a) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/blank-blur/runs?wait=60")!, request, nil, [:])
            let (_, _, b) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/blank-blur/runs?wait=60")!, request, nil, [:])
            let imageA = try #require(try json(a)["outputs"]?[0]?["images"]?[0])
            let imageB = try #require(try json(b)["outputs"]?[0]?["images"]?[0])
            #expect(imageA["name"] != imageB["name"])
            #expect(imageA["created_by_run"] == true && imageB["created_by_run"] == true)
            let idA = try #require(try json(a)["id"]?.stringValue)
            #expect(
                try await send("DELETE", base.appendingPathComponent("v1/runs/\(idA)/outputs"), nil, nil, [:]).0 == 200)
            let nameB = try #require(imageB["name"]?.stringValue)
            #expect(try await send("GET", base.appendingPathComponent("v1/images/\(nameB)"), nil, nil, [:]).0 == 200)
            _ = server
        }
    }

    @Test func endedRunsKeepTheirRecordAndTerminalEventAcrossAGatewayRestart() async throws {
        let destination = "gateway-live-truth-\(UUID().uuidString.prefix(6))"
        let folder = try LiveGateway.workflowFolder([
            "fails": LiveGateway.oneNodeWorkflow("gateway_test_fail", fields: [("message", "made to fail")])
        ])
        let (completed, failed, outputs) = try await LiveGateway.with(destination: destination, workflows: folder) {
            base, _ in
            let (_, _, done) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/blank-blur/runs?wait=60")!, ["inputs": ["0": 8, "1": 8]], nil,
                [:])
            let (_, _, broken) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/fails/runs?wait=60")!, ["inputs": [:]], nil, [:])
            #expect(try json(broken)["status"] == "failed")
            return (
                try json(done)["id"]?.stringValue ?? "", try json(broken)["id"]?.stringValue ?? "",
                try json(done)["outputs"]
            )
        }
        try await LiveGateway.with(destination: destination, workflows: folder) { base, server in
            try await eventually(within: .seconds(60)) {
                server.runs.run(completed)?.status == .completed && server.runs.run(failed)?.status == .failed
            }
            let (_, _, done) = try await send("GET", base.appendingPathComponent("v1/runs/\(completed)"), nil, nil, [:])
            #expect(try json(done)["outputs"] == outputs)
            #expect(try json(done)["completed_at"] != .null)
            let (_, _, broken) = try await send("GET", base.appendingPathComponent("v1/runs/\(failed)"), nil, nil, [:])
            #expect(try json(broken)["error"]?["message"]?.stringValue?.contains("made to fail") == true)
            let (_, _, stream) = try await send(
                "GET", base.appendingPathComponent("v1/runs/\(completed)/events"), nil, nil, [:])
            #expect(String(decoding: stream, as: UTF8.self).contains("event: run.completed"))
        }
    }

    @Test func anItemRetriedInInvokeAIReopensItsRunWhichEndsAgain() async throws {
        let folder = try LiveGateway.workflowFolder([
            "fails": LiveGateway.oneNodeWorkflow("gateway_test_fail", fields: [("message", "fails each time")])
        ])
        try await LiveGateway.with(workflows: folder) { base, server in
            let (_, _, body) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/fails/runs?wait=60")!, ["inputs": [:]], nil, [:])
            let run = try json(body)
            #expect(run["status"] == "failed")
            let id = try #require(run["id"]?.stringValue)
            let item = try #require(run["item_ids"]?[0]?.intValue)
            #expect(try await server.upstream.retryItems([item]) == [item])
            try await eventually(within: .seconds(60)) {
                server.runs.run(id)?.itemIDs.count == 2 && server.runs.run(id)?.status == .failed
            }
            let ends = server.events.held().filter { $0.runID == id && $0.isTerminal }.map(\.type)
            #expect(ends == ["run.failed", "run.failed"])
            #expect(server.runs.run(id)?.error?["message"]?.stringValue?.contains("fails each time") == true)
        }
    }

    @Test func concurrentRequestsWithOneKeyMakeOneRunAndACrashedEnqueueIsFoundAgain() async throws {
        try await LiveGateway.with { base, server in
            let key = "concurrent-\(UUID().uuidString)"
            let url = base.appendingPathComponent("v1/workflows/blank-blur/runs")
            let ids = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try LiveGateway.json(
                            try await LiveGateway.send(
                                "POST", url, json: ["inputs": ["0": 8, "1": 8]], headers: ["Idempotency-Key": key]
                            ).2)["id"]?.stringValue
                    }
                }
                var ids: [String?] = []
                for try await id in group { ids.append(id) }
                return ids
            }
            #expect(Set(ids).count == 1 && ids.first! != nil)
            let client = InvokeAIClient(baseURL: try LiveEnvironment.invokeAIURL())
            #expect(try await client.batchStatus(ids.first!!).total == 1)

            // A gateway that crashed right after enqueueing: the batch exists, the key file never
            // heard of it. The retry finds InvokeAI's record instead of enqueueing again.
            let crashedKey = "crashed-\(UUID().uuidString)"
            let store = IdempotencyStore(file: nil, destination: server.runs.destination)
            let batchID = store.batchID(for: crashedKey)
            let entry = try #require(try await server.catalog.entry("blank-blur"))
            let batch = entry.workflow.buildBatch(
                .init(), origin: RunTracker.origin(for: "blank-blur"), destination: server.runs.destination,
                batchID: batchID)
            _ = try await client.enqueueBatch(body: batch.bytes, batchId: batchID)
            let (status, _, body) = try await send("POST", url, ["inputs": [:]], nil, ["Idempotency-Key": crashedKey])
            #expect(status == 200 || status == 202)
            #expect(try json(body)["id"]?.stringValue == batchID)
            #expect(try await client.batchStatus(batchID).total == 1)
        }
    }

    @Test func boardsAreCheckedAndEachOutputSaysItsBoard() async throws {
        try await LiveGateway.with { base, server in
            let url = URL(string: "\(base)/v1/workflows/blank-blur/runs?wait=60")!
            let (unknown, _, problem) = try await send(
                "POST", url, ["inputs": ["0": 8], "board": "no-such-board"], nil, [:])
            #expect(unknown == 422)
            #expect(String(decoding: problem, as: UTF8.self).contains("no-such-board"))
            #expect(try await send("POST", url, ["inputs": ["0": 8], "board_id": "x"], nil, [:]).0 == 422)
            let name = "gateway-live-board-\(UUID().uuidString.prefix(6))"
            let board = try #require(try await server.upstream.createBoard(name: name)["board_id"]?.stringValue)
            defer { Task { _ = try? await server.upstream.deleteBoard(board, includeImages: true) } }
            // By its unique name: resolved to its id.
            let (status, _, body) = try await send(
                "POST", url, ["inputs": ["0": 8, "1": 8], "board": .string(name)], nil, [:])
            #expect(status == 200)
            #expect(try json(body)["outputs"]?[0]?["images"]?[0]?["board_id"]?.stringValue == board)
        }
    }
}

/// InvokeAI restarted with another node set: the gateway reads its schemas again when the event
/// stream reconnects, so runnability is always current. Restarts InvokeAI twice (without the
/// test node pack, then with it): run alone, last (see scripts/test).
extension LiveRunTruthTests {
    private func restartInvokeAI(_ arguments: [String]) async throws {
        let state = try #require(
            ProcessInfo.processInfo.environment["INVOKEAI_HARNESS_STATE"], "run under scripts/invokeai-harness run")
        let restart = Process()
        restart.executableURL = GatewayHTTP.repositoryRoot.appendingPathComponent("scripts/invokeai-harness")
        restart.arguments = ["restart", "--state", state, "--down", "0.5"] + arguments
        try restart.run()
        try await eventually(within: .seconds(240)) { !restart.isRunning }
        #expect(restart.terminationStatus == 0, "harness restart failed")
    }

    @Test func runnabilityFollowsInvokeAIsNodeSetAcrossRestarts() async throws {
        try await LiveGateway.with { base, server in
            func slowSteps() async throws -> JSONValue {
                try json(try await send("GET", base.appendingPathComponent("v1/workflows/slow-steps"), nil, nil, [:]).2)
            }
            #expect(try await slowSteps()["runnable"] == true)
            let reconnects = server.upstreamEvents.state.reconnectCount
            try await restartInvokeAI(["--without-test-nodes"])
            try await eventually(within: .seconds(120)) {
                server.upstreamEvents.state.connected && server.upstreamEvents.state.reconnectCount > reconnects
            }
            let without = try await slowSteps()
            #expect(without["runnable"] == false)
            #expect(without["issues"]?[0]?["kind"] == "unknown_node_type")
            let (refused, _, _) = try await send(
                "POST", base.appendingPathComponent("v1/workflows/slow-steps/runs"), ["inputs": ["0": 1, "1": 1]], nil,
                [:])
            #expect(refused == 422)

            let again = server.upstreamEvents.state.reconnectCount
            try await restartInvokeAI([])
            try await eventually(within: .seconds(120)) {
                server.upstreamEvents.state.connected && server.upstreamEvents.state.reconnectCount > again
            }
            #expect(try await slowSteps()["runnable"] == true)
            let (status, _, body) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/slow-steps/runs?wait=60")!, ["inputs": ["0": 1, "1": 1]], nil,
                [:])
            #expect(status == 200)
            #expect(try json(body)["status"] == "completed")
        }
    }
}

/// The gateway process killed (SIGKILL) at points 0-10 ms after a keyed POST arrived, then
/// started again on the same state and destination: the client's retry with the same key
/// finds the run InvokeAI has, or makes it, never a second one.
extension LiveRunTruthTests {
    /// A gateway process of the built binary on a free port; killed with SIGKILL by the caller.
    private func startGatewayProcess(port: Int, destination: String, state: String) throws -> Process {
        let process = Process()
        process.executableURL = GatewayHTTP.repositoryRoot.appendingPathComponent(".build/debug/invokeai-gateway")
        process.arguments = [
            "serve", "--port", String(port), "--invokeai", try LiveEnvironment.invokeAIURL().absoluteString,
            "--state-dir", state, "--destination", destination, "--log-level", "error",
            "--workflows", GatewayHTTP.repositoryRoot.appendingPathComponent("workflows").path,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test func aGatewayKilledRightAfterAKeyedPOSTNeverMakesTheRetryEnqueueTwice() async throws {
        let destination = "gateway-live-kill-\(UUID().uuidString.prefix(6))"
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-kill-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let client = InvokeAIClient(baseURL: try LiveEnvironment.invokeAIURL())
        let port = try #require(GatewayHTTP.deadUpstream().port)
        let base = URL(string: "http://127.0.0.1:\(port)")!
        /// Waits until the gateway answers /readyz with 200 (InvokeAI reachable, events connected).
        func ready() async throws {
            for _ in 0..<600 {
                if (try? await TestHTTP.data(from: base.appendingPathComponent("readyz")).1.statusCode) == 200 {
                    return
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw LiveGateway.Unexpected(why: "the gateway process did not become ready")
        }
        let delays = [0, 2, 4, 6, 8, 10]
        for (i, delay) in delays.enumerated() {
            let key = "kill-\(destination)-\(i)"
            let first = try startGatewayProcess(port: port, destination: destination, state: state)
            try await ready()
            // The POST goes out; the process dies `delay` ms after it was sent, answered or not.
            let send = self.send
            let post = Task {
                try? await send(
                    "POST", base.appendingPathComponent("v1/workflows/blank-blur/runs"), ["inputs": ["0": 8, "1": 8]],
                    nil, ["Idempotency-Key": key])
            }
            try await Task.sleep(for: .milliseconds(delay))
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            _ = await post.value

            let second = try startGatewayProcess(port: port, destination: destination, state: state)
            defer { kill(second.processIdentifier, SIGKILL); second.waitUntilExit() }
            try await ready()
            let (status, _, body) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/blank-blur/runs?wait=60")!, ["inputs": ["0": 8, "1": 8]], nil,
                ["Idempotency-Key": key])
            #expect(status == 200 || status == 202, "delay \(delay) ms: \(String(decoding: body, as: UTF8.self))")
            let id = try #require(try json(body)["id"]?.stringValue)
            #expect(try await client.batchStatus(id).total == 1, "delay \(delay) ms")
        }
        // One batch per key, whatever happened to the first attempt.
        let counts = try await client.queueCounts(destination: destination)
        #expect(counts["total"]?.intValue == delays.count)
    }
}

/// Descriptions are served from prepared bytes while nothing changed, and follow every change.
extension LiveRunTruthTests {
    @Test func preparedDescriptionsFollowEveryChangeOfTheCatalog() async throws {
        let folder = try Self.folder()
        try await LiveGateway.with(workflows: folder) { base, _ in
            let list = base.appendingPathComponent("v1/workflows")
            let first = try await send("GET", list, nil, nil, [:]).2
            let again = try await send("GET", list, nil, nil, [:]).2
            #expect(first == again)
            // A definition stored through the API is described at once, and so is its replacement.
            let one = LiveGateway.oneNodeWorkflow("gateway_test_slow", fields: [("steps", 1)])
            let two = LiveGateway.oneNodeWorkflow("gateway_test_slow", fields: [("steps", 1), ("step_ms", 5)])
            #expect(
                try await send("PUT", base.appendingPathComponent("v1/workflows/changing/definition"), one, nil, [:]).0
                    == 201)
            let described = try json(
                try await send("GET", base.appendingPathComponent("v1/workflows/changing"), nil, nil, [:]).2)
            #expect(described["inputs"]?.arrayValue?.count == 1)
            #expect(
                try await send("PUT", base.appendingPathComponent("v1/workflows/changing/definition"), two, nil, [:]).0
                    == 200)
            let redescribed = try json(
                try await send("GET", base.appendingPathComponent("v1/workflows/changing"), nil, nil, [:]).2)
            #expect(redescribed["inputs"]?.arrayValue?.count == 2)
            // A file written into the folder by hand appears in the list (the folder is checked each second).
            try JSONEncoder().encode(one).write(to: URL(fileURLWithPath: folder).appendingPathComponent("by-hand.json"))
            let send = self.send, json = self.json
            var listed = false
            for _ in 0..<100 where !listed {
                let names =
                    try json(try await send("GET", list, nil, nil, [:]).2)["workflows"]?.arrayValue?.compactMap {
                        $0["name"]?.stringValue
                    } ?? []
                listed = names.contains("by-hand")
                if !listed { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(listed, "a workflow file written by hand was never listed")
        }
    }
}
