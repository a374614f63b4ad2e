import Foundation
import GatewayTestSupport
import JSONValue
import TestSupport
import Testing

@testable import Gateway

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The example workflows end to end over HTTP against the harness's InvokeAI: submit, wait,
/// outputs, download; and every way a submission can be refused.
@Suite("Live: workflow runs over HTTP", .enabled(if: !LiveEnvironment.skipRequested, LiveEnvironment.skipReason))
struct LiveWorkflowRunTests {
    private func gateway<T: Sendable>(
        configure: @escaping (inout GatewayConfiguration) -> Void = { _ in },
        _ body: (URL, GatewayServer) async throws -> T
    ) async throws -> T {
        try await LiveGateway.with(
            destination: "gateway-live-runs-\(UUID().uuidString.prefix(6))", configure: configure, body)
    }

    private func send(
        _ method: String, _ url: URL, json: JSONValue? = nil, raw: String? = nil, headers: [String: String] = [:]
    ) async throws -> (Int, [String: String], Data) {
        try await LiveGateway.send(method, url, json: json, raw: raw, headers: headers)
    }

    private func json(_ data: Data) throws -> JSONValue { try LiveGateway.json(data) }

    /// Width and height from a PNG's IHDR.
    private func pngSize(_ data: Data) -> (Int, Int)? {
        let b = [UInt8](data)
        guard b.count > 24, b.starts(with: [0x89, 0x50, 0x4E, 0x47]) else { return nil }
        return (
            Int(b[16]) << 24 | Int(b[17]) << 16 | Int(b[18]) << 8 | Int(b[19]),
            Int(b[20]) << 24 | Int(b[21]) << 16 | Int(b[22]) << 8 | Int(b[23])
        )
    }

    @Test func blankBlurRunsWaitsAndItsImageDownloads() async throws {
        try await gateway { base, _ in
            let (listStatus, _, list) = try await send("GET", base.appendingPathComponent("v1/workflows"))
            #expect(listStatus == 200)
            let names = try json(list)["workflows"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(names.contains("blank-blur") && names.contains("resize-image") && names.contains("slow-steps"))
            #expect(names.contains("text-to-image-sd1-5")) // from InvokeAI's library

            let (status, headers, body) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/blank-blur/runs?wait=60")!,
                json: ["inputs": ["0": 40, "Height": "24", "2": "#336699", "Blur radius": 1]])
            #expect(status == 200)
            let run = try json(body)
            #expect(run["status"] == "completed")
            #expect(headers["location"] == "/v1/runs/\(run["id"]?.stringValue ?? "")")
            let image = try #require(run["outputs"]?[0]?["images"]?[0])
            #expect(run["outputs"]?[0]?["board_input"] == 4)
            let (imageStatus, imageHeaders, png) = try await send(
                "GET", URL(string: "\(base)\(image["url"]?.stringValue ?? "")")!)
            #expect(imageStatus == 200)
            #expect(imageHeaders["content-type"] == "image/png")
            #expect(pngSize(png).map { [$0.0, $0.1] } == [40, 24])
            // The same, answered as the image itself.
            let (imageAnswer, answerHeaders, direct) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/blank-blur/runs?wait=60")!,
                json: ["inputs": ["0": 16, "1": 8]], headers: ["Accept": "image/png"])
            #expect(imageAnswer == 200)
            #expect(answerHeaders["content-type"] == "image/png")
            #expect(pngSize(direct).map { [$0.0, $0.1] } == [16, 8])
        }
    }

    @Test func outputsAskedToBeCleanedGoOnceFetched() async throws {
        try await gateway { base, server in
            let (_, _, body) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/blank-blur/runs?wait=60")!,
                json: ["inputs": ["0": 8, "1": 8], "cleanup": "outputs"])
            let url = try #require(try json(body)["outputs"]?[0]?["images"]?[0]?["url"]?.stringValue)
            let name = String(url.split(separator: "/").last!)
            #expect(try await send("GET", URL(string: "\(base)\(url)")!).0 == 200)
            var gone = false
            for _ in 0..<100 where !gone {
                gone = (try? await server.upstream.image(name)) == nil
                if !gone { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(gone, "the fetched output \(name) is still in InvokeAI")
            // And the run says so.
            let id = try #require(try json(body)["id"]?.stringValue)
            let (_, _, after) = try await send("GET", base.appendingPathComponent("v1/runs/\(id)"))
            let cleanup = try json(after)["cleanup"]
            #expect(cleanup?["mode"] == "outputs")
            #expect(cleanup?["deleted"] == [.string(name)])
            #expect(cleanup?["failed"] == [])
        }
    }

    /// Polls until InvokeAI no longer has `name`.
    private func goneUpstream(_ name: String, _ server: GatewayServer) async throws -> Bool {
        for _ in 0..<200 {
            if (try? await server.upstream.image(name)) == nil { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test func aRunsBoardHoldsItsOutputsWhichAreDeletedOnRequest() async throws {
        try await gateway { base, server in
            let board = try #require(
                try await server.upstream.createBoard(name: "gateway-live-\(UUID().uuidString.prefix(6))")["board_id"]?
                    .stringValue)
            defer { Task { _ = try? await server.upstream.deleteBoard(board, includeImages: true) } }
            let (status, _, body) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/blank-blur/runs?wait=60")!,
                json: ["inputs": ["0": 8, "1": 8], "board": .string(board)])
            #expect(status == 200)
            let run = try json(body)
            let id = try #require(run["id"]?.stringValue)
            let name = try #require(run["outputs"]?[0]?["images"]?[0]?["name"]?.stringValue)
            #expect(try await server.upstream.boardImageNames(board).contains(name))
            #expect(run["cleanup"]?["mode"] == "inputs")

            let (deleted, _, answer) = try await send("DELETE", base.appendingPathComponent("v1/runs/\(id)/outputs"))
            #expect(deleted == 200)
            #expect(try json(answer)["cleanup"]?["deleted"] == [.string(name)])
            #expect(try await goneUpstream(name, server))
            #expect(try await send("DELETE", base.appendingPathComponent("v1/runs/no-such-run/outputs")).0 == 404)
        }
    }

    @Test func outputsPastTheirTimeToLiveAreDeleted() async throws {
        try await gateway(configure: {
            $0.outputTTL = 1; $0.events.heartbeatInterval = 0.25
        }) { base, server in
            let (status, _, body) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/blank-blur/runs?wait=60")!,
                json: ["inputs": ["0": 8, "1": 8]])
            #expect(status == 200)
            let run = try json(body)
            let id = try #require(run["id"]?.stringValue)
            let name = try #require(run["outputs"]?[0]?["images"]?[0]?["name"]?.stringValue)
            #expect(try await goneUpstream(name, server))
            try await eventually { server.runs.run(id)?.cleanupState?["deleted"] == [.string(name)] }
            let (_, _, metrics) = try await send("GET", base.appendingPathComponent("metrics"))
            #expect(
                String(decoding: metrics, as: UTF8.self).contains("gateway_image_cleanup_total{outcome=\"deleted\"} 1"))
        }
    }

    @Test func anInlineImageIsUploadedUsedAndDeletedWhenTheRunEnds() async throws {
        try await gateway { base, server in
            // A real PNG, made by InvokeAI.
            let (_, _, made) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/blank-blur/runs?wait=60")!,
                json: ["inputs": ["0": 20, "1": 20]], headers: ["Accept": "image/png"])
            let dataURL = "data:image/png;base64,\(made.base64EncodedString())"
            let (status, _, body) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/resize-image/runs?wait=60")!,
                json: ["inputs": ["Image": .string(dataURL), "Width": 12, "Height": 10]])
            #expect(status == 200)
            let run = try json(body)
            #expect(run["status"] == "completed")
            #expect(run["outputs"]?[0]?["images"]?[0]?["width"] == 12)
            let id = try #require(run["id"]?.stringValue)
            let uploaded = try #require(server.runs.run(id)?.uploadedImages.first)
            // Deleted upstream once the run ended (cleanup runs right after the end is reported).
            var gone = false
            for _ in 0..<100 where !gone {
                gone = (try? await server.upstream.image(uploaded)) == nil
                if !gone { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(gone, "the uploaded input \(uploaded) is still in InvokeAI")
            try await eventually { server.runs.run(id)?.cleanupState?["deleted"] == [.string(uploaded)] }
        }
    }

    @Test func slowStepsRunsAsynchronouslyAndItsEventsEndWithTheRun() async throws {
        try await gateway { base, _ in
            let (status, headers, body) = try await send(
                "POST", base.appendingPathComponent("v1/workflows/slow-steps/runs"),
                json: ["inputs": ["Steps": 4, "1": 100]])
            #expect(status == 202)
            let location = try #require(headers["location"])
            let id = try #require(try json(body)["id"]?.stringValue)
            let port = base.port!
            let events = try await blocking {
                try SSETestClient(port: port, target: "/v1/runs/\(id)/events?last_event_id=\(0)-0")
            }
            let types = try await blocking { () -> [String] in
                var types: [String] = []
                while let event = try events.next() { types.append(event.event ?? "") }
                return types
            }
            #expect(types.last == "run.completed")
            #expect(types.filter { $0 == "node.progress" }.count == 4)
            let (_, _, final) = try await send("GET", URL(string: "\(base)\(location)")!)
            #expect(try json(final)["status"] == "completed")
        }
    }

    @Test func aSubscriberThatDropsAndResumesWithLastEventIDMissesNothing() async throws {
        try await gateway { base, _ in
            let port = base.port!
            let whole = try await blocking { try SSETestClient(port: port, target: "/v1/events?workflow=slow-steps") }
            let first = try await blocking { try SSETestClient(port: port, target: "/v1/events?workflow=slow-steps") }
            let (status, _, body) = try await send(
                "POST", base.appendingPathComponent("v1/workflows/slow-steps/runs"),
                json: ["inputs": ["0": 8, "1": 150]])
            #expect(status == 202)
            let id = try #require(try json(body)["id"]?.stringValue)
            @Sendable func untilEnd(_ client: SSETestClient, limit: Int = 1000) throws -> [SSETestClient.Event] {
                var events: [SSETestClient.Event] = []
                while events.count < limit, let event = try client.next() {
                    events.append(event)
                    if event.event == "run.completed" || event.event == "run.failed" { break }
                }
                return events
            }
            // One subscriber reads three events and drops; it comes back with the last id it saw.
            let before = try await blocking { try untilEnd(first, limit: 3) }
            let lastID = try #require(before.last?.id)
            first.close()
            let resumed = try await blocking {
                try SSETestClient(
                    port: port, target: "/v1/events?workflow=slow-steps", headers: ["Last-Event-ID": lastID])
            }
            let after = try await blocking { try untilEnd(resumed) }
            let all = try await blocking { try untilEnd(whole) }
            #expect(all.last?.event == "run.completed")
            #expect((before + after).map(\.id) == all.map(\.id))
            #expect(all.filter { $0.event == "node.progress" }.count == 8)
            #expect(all.allSatisfy { $0.data.contains(id) })
            // The node's steps are in the graph sent, so progress says step and total.
            let progress = try all.filter { $0.event == "node.progress" }.map { try json(Data($0.data.utf8)) }
            #expect(progress.map { $0["step"]?.intValue } == (1...8).map { $0 })
            #expect(progress.allSatisfy { $0["total"]?.intValue == 8 })
        }
    }

    @Test func denoisingProgressCarriesPreviewsOnlyWhereAsked() async throws {
        try await gateway { base, _ in
            let port = base.port!
            let plain = try await blocking {
                try SSETestClient(
                    port: port, target: "/v1/events?workflow=text-to-image-sd1-5&type=node.progress,run.completed")
            }
            let withPreviews = try await blocking {
                try SSETestClient(
                    port: port,
                    target: "/v1/events?workflow=text-to-image-sd1-5&type=node.progress,run.completed&previews=1")
            }
            let (status, _, body) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/text-to-image-sd1-5/runs?wait=280")!,
                json: ["inputs": ["model": "tiny-sd15-v1", "Positive Prompt": "a red cube", "Width": 64, "Height": 64]])
            #expect(status == 200)
            let run = try json(body)
            #expect(run["status"] == "completed")
            // The output image is mapped to the workflow's save (decode) node.
            let output = try #require(run["outputs"]?[0])
            #expect(output["images"]?[0]?["width"] == 64)
            #expect(output["node_type"]?.stringValue?.hasSuffix("l2i") == true)
            @Sendable func progress(_ client: SSETestClient) throws -> [SSETestClient.Event] {
                var events: [SSETestClient.Event] = []
                while let event = try client.next(), event.event != "run.completed" { events.append(event) }
                return events
            }
            let (a, b) = try await blocking { (try progress(plain), try progress(withPreviews)) }
            #expect(!a.isEmpty && a.count == b.count)
            #expect(!a.contains { $0.data.contains("\"preview\"") })
            #expect(b.contains { $0.data.contains("\"preview\"") && $0.data.contains("data:image") })
        }
    }

    @Test func aRunSurvivesAGatewayRestartMidRun() async throws {
        let destination = "gateway-live-restart-\(UUID().uuidString.prefix(6))"
        let state = FileManager.default.temporaryDirectory.appendingPathComponent(
            "gateway-restart-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let configure: (inout GatewayConfiguration) -> Void = {
            $0.destination = destination; $0.stateDirectory = state
        }
        let request: JSONValue = ["inputs": ["0": 12, "1": 250]]
        let headers = ["Idempotency-Key": "restart-\(destination)"]
        // The first gateway submits, sees the run going, and stops.
        let id = try await gateway(configure: configure) { base, server in
            let (status, _, body) = try await send(
                "POST", base.appendingPathComponent("v1/workflows/slow-steps/runs"), json: request, headers: headers)
            #expect(status == 202)
            let id = try #require(try json(body)["id"]?.stringValue)
            try await eventually(within: .seconds(120)) { server.runs.run(id)?.status == .running }
            return id
        }
        // A new gateway on the same destination finds it again in InvokeAI's queue and follows it to the end.
        try await gateway(configure: configure) { base, server in
            try await eventually(within: .seconds(60)) { server.runs.run(id) != nil }
            let (status, _, body) = try await send("GET", base.appendingPathComponent("v1/runs/\(id)"))
            #expect(status == 200)
            #expect(try json(body)["workflow"] == "slow-steps")
            let (_, _, list) = try await send("GET", URL(string: "\(base)/v1/runs?workflow=slow-steps")!)
            #expect(try json(list)["runs"]?.arrayValue?.contains { $0["id"]?.stringValue == id } == true)
            let final = await server.runs.wait(id, timeout: 180)
            #expect(final?.status == .completed)
            // The idempotency key survived too: the same request is the same run, not a new one.
            let (again, _, replay) = try await send(
                "POST", base.appendingPathComponent("v1/workflows/slow-steps/runs"), json: request, headers: headers)
            #expect(again == 200 || again == 202)
            #expect(try json(replay)["id"]?.stringValue == id)
        }
    }

    @Test func refusalsAreClearAndNothingIsEnqueued() async throws {
        try await gateway { base, server in
            let runs = URL(string: "\(base)/v1/workflows/blank-blur/runs")!
            #expect(
                try await send("POST", URL(string: "\(base)/v1/workflows/no-such-flow/runs")!, json: ["inputs": [:]]).0
                    == 404)
            let (invalid, invalidHeaders, problem) = try await send(
                "POST", runs, json: ["inputs": ["0": 1.5, "1": "tall", "Colour": "red", "nope": 1]])
            #expect(invalid == 422)
            #expect(invalidHeaders["content-type"] == "application/problem+json")
            let errors = try json(problem)["errors"]?.arrayValue ?? []
            #expect(errors.compactMap { $0["index"]?.intValue } == [0, 1, 2])
            #expect(errors.count == 4)
            #expect(try await send("POST", runs, json: ["inputs": [:]], headers: ["If-Match": "\"0000\""]).0 == 412)
            #expect(try await send("POST", runs, json: ["inputs": "nope"]).0 == 422)
            #expect(server.runs.runs().total == 0)

            // The description's ETag (fingerprint and runnability) is a valid If-Match for a run,
            // and answers If-None-Match with 304 while neither changed.
            let detail = URL(string: "\(base)/v1/workflows/blank-blur")!
            let etag = try #require(try await send("GET", detail).1["etag"])
            #expect(try await send("GET", detail, headers: ["If-None-Match": etag]).0 == 304)
            let matching = ["If-Match": etag]
            let (accepted, _, _) = try await send(
                "POST", runs, raw: #"{"inputs": {"0": 8, "1": 8}, "cleanup": "none"}"#, headers: matching)
            #expect(accepted == 202 || accepted == 200)
            #expect(server.runs.runs().total == 1)

            // Idempotency: the same key and body give the same run; another body is refused.
            let key = ["Idempotency-Key": "live-\(UUID().uuidString)"]
            let first = try json(
                try await send("POST", runs, raw: #"{"inputs": {"0": 8, "1": 8}, "cleanup": "none"}"#, headers: key).2)[
                    "id"]
            // The same request written with its keys in another order and other spacing is the same request.
            let again = try json(
                try await send("POST", runs, raw: #"{"cleanup":"none","inputs":{"1":8,"0":8}}"#, headers: key).2)["id"]
            #expect(first != nil && first == again)
            #expect(try await send("POST", runs, json: ["inputs": ["0": 16]], headers: key).0 == 422)
            #expect(server.runs.runs().total == 2)
        }
    }

    @Test func cancellingARunningWorkflowRun() async throws {
        try await gateway { base, server in
            let (_, _, body) = try await send(
                "POST", base.appendingPathComponent("v1/workflows/slow-steps/runs"),
                json: ["inputs": ["0": 300, "1": 100]])
            let id = try #require(try json(body)["id"]?.stringValue)
            for _ in 0..<200 where server.runs.run(id)?.status != .running {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await send("DELETE", base.appendingPathComponent("v1/runs/\(id)")).0 == 202)
            let run = await server.runs.wait(id, timeout: 60)
            #expect(run?.status == .canceled)
            #expect(try await send("DELETE", base.appendingPathComponent("v1/runs/\(id)")).0 == 409)
        }
    }

    @Test func outputsMappedFromEventsEqualThoseReadBackFromInvokeAI() async throws {
        try await gateway { base, server in
            // Two runs (one batch of two items would do too): each mapped from the events it watched.
            for radius in [1, 2] {
                let (status, _, body) = try await send(
                    "POST", URL(string: "\(base)/v1/workflows/blank-blur/runs?wait=60")!,
                    json: ["inputs": ["0": 24, "1": 16, "Blur radius": .int(radius)]])
                #expect(status == 200)
                let id = try #require(try json(body)["id"]?.stringValue)
                let run = try #require(server.runs.run(id))
                #expect(run.status == .completed)
                // What the gateway answered, next to what InvokeAI's stored queue items give.
                let items = try await server.upstream.queueItems(ids: run.itemIDs)
                let entry = try #require(server.catalog.cached("blank-blur"))
                let mapped = WorkflowOutputs.map(entry.workflow, items: items)
                let records = try await server.upstream.images(named: Run.imageNames(in: mapped))
                let readBack = Run.outputs(
                    mapped, describedBy: Dictionary(uniqueKeysWithValues: records.map { ($0.name, $0) }),
                    sessions: Set(items.compactMap(\.sessionId)))
                #expect(run.outputs == readBack)
                #expect(run.outputs.arrayValue?.isEmpty == false)
            }
            // Both were mapped from events, not read back (the comparison above would hold either way).
            #expect(server.runs.outputSources.events == 2)
            #expect(server.runs.outputSources.readBack == 0)
        }
    }

    @Test func aWorkflowSavedInInvokeAIsLibraryIsCallableAtOnceAndItsChangesAreSeen() async throws {
        let invokeAI = try LiveEnvironment.invokeAIURL()
        let file = GatewayHTTP.repositoryRoot.appendingPathComponent("workflows/blank-blur.json")
        var definition = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: file)).objectValue ?? [:]
        let title = "Gateway library test \(UUID().uuidString.prefix(6))"
        definition["name"] = .string(title)
        definition["id"] = nil
        definition["meta"] = ["version": "3.0.0", "category": "user"]
        let (created, _, record) = try await send(
            "POST", invokeAI.appendingPathComponent("api/v1/workflows/"),
            json: ["workflow": .object(definition)])
        try #require(created == 200, "InvokeAI refused the workflow: \(String(decoding: record, as: UTF8.self))")
        let id = try #require(try json(record)["workflow_id"]?.stringValue)
        defer { Task { _ = try? await send("DELETE", invokeAI.appendingPathComponent("api/v1/workflows/i/\(id)")) } }
        let name = WorkflowSlug.make(from: title)

        try await gateway { base, _ in
            // Saved just now: callable at once (an unknown name makes the gateway look again).
            #expect(try await send("GET", base.appendingPathComponent("v1/workflows/\(name)")).0 == 200)
            let (ran, _, runBody) = try await send(
                "POST", URL(string: "\(base)/v1/workflows/\(name)/runs?wait=60")!,
                json: ["inputs": ["0": 16, "1": 16]])
            #expect(ran == 200)
            #expect(try json(runBody)["status"] == "completed")

            // Renamed in the GUI: the new name answers at once, the old one goes away with the
            // next background read of the library (every 5 s while requests come).
            var renamed = definition
            renamed["name"] = .string(title + " renamed")
            renamed["id"] = .string(id)
            let (updated, _, _) = try await send(
                "PATCH", invokeAI.appendingPathComponent("api/v1/workflows/i/\(id)"),
                json: ["workflow": .object(renamed)])
            try #require(updated == 200)
            let newName = WorkflowSlug.make(from: title + " renamed")
            #expect(try await send("GET", base.appendingPathComponent("v1/workflows/\(newName)")).0 == 200)
            #expect(try await statusBecomes(404, base.appendingPathComponent("v1/workflows/\(name)")))

            // Deleted in the GUI: gone from the gateway too.
            #expect(try await send("DELETE", invokeAI.appendingPathComponent("api/v1/workflows/i/\(id)")).0 == 200)
            #expect(try await statusBecomes(404, base.appendingPathComponent("v1/workflows/\(newName)")))
        }
    }

    /// Asks again every 200 ms, for up to 60 s, until `url` answers `status`.
    private func statusBecomes(_ status: Int, _ url: URL) async throws -> Bool {
        for _ in 0..<300 {
            if try await send("GET", url).0 == status { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }
}
