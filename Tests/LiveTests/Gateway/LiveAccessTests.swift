import Foundation
import GatewayTestSupport
import InvokeAI
import JSONValue
import TestSupport
import Testing

@testable import Gateway

/// Keys and tenancy against the harness's InvokeAI: key A's run (and its output, and A's upload)
/// cannot be seen, followed, cancelled or fetched with key B (404), a read key cannot submit
/// (403), no key is 401, and after a gateway restart the run still belongs to A (ownership is in
/// InvokeAI's record, not the gateway's memory).
@Suite("Live: keys and tenancy", .enabled(if: !LiveEnvironment.skipRequested, LiveEnvironment.skipReason))
struct LiveAccessTests {
    let send = LiveGateway.send
    let json = LiveGateway.json

    @Test func keyBCannotReachKeyAsRunOrImagesAndARestartKeepsTheOwner() async throws {
        let path = try Self.keysPath()
        var file = KeysFile()
        let keyA = try file.add(name: "a", scopes: [.read, .run], tenant: nil).key
        let keyB = try file.add(name: "b", scopes: [.read, .run], tenant: nil).key
        let reader = try file.add(name: "reader", scopes: [.read], tenant: nil).key
        try file.write(path: path)
        let a = ["Authorization": "Bearer \(keyA)"], b = ["X-API-Key": keyB]
        let destination = "gateway-live-access-\(UUID().uuidString.prefix(6))"
        let request: JSONValue = ["inputs": ["0": 8, "1": 8]]
        let submit = "v1/workflows/blank-blur/runs"

        let (run, output) = try await LiveGateway.with(destination: destination, configure: { $0.keysFile = path }) {
            base, server in
            #expect(try await send("POST", base.appendingPathComponent(submit), request, nil, [:]).0 == 401)
            #expect(
                try await send("POST", base.appendingPathComponent(submit), request, nil, ["X-API-Key": reader]).0
                    == 403)
            let (status, _, body) = try await send(
                "POST", URL(string: "\(base)/\(submit)?wait=60")!, request, nil, a)
            #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")
            let run = try #require(try json(body)["id"]?.stringValue)
            let output = try #require(try json(body)["outputs"]?[0]?["images"]?[0]?["name"]?.stringValue)

            for (method, path) in [
                ("GET", "v1/runs/\(run)"), ("GET", "v1/runs/\(run)/events"), ("DELETE", "v1/runs/\(run)"),
                ("DELETE", "v1/runs/\(run)/outputs"), ("GET", "v1/images/\(output)"),
                ("GET", "v1/images/\(output)/thumbnail"), ("DELETE", "v1/images/\(output)"),
            ] {
                let (code, _, answer) = try await send(method, base.appendingPathComponent(path), nil, nil, b)
                #expect(code == 404, "B \(method) \(path): \(String(decoding: answer, as: UTF8.self))")
            }
            let listedB = try json(try await send("GET", base.appendingPathComponent("v1/runs"), nil, nil, b).2)
            #expect(listedB["runs"]?.arrayValue?.contains { $0["id"]?.stringValue == run } == false)
            #expect(try await send("GET", base.appendingPathComponent("v1/runs/\(run)"), nil, nil, a).0 == 200)
            #expect(try await send("GET", base.appendingPathComponent("v1/images/\(output)"), nil, nil, a).0 == 200)

            // B's event stream, replayed from the start, carries nothing of A's run.
            let port = base.port!
            let stream = try await blocking {
                try SSETestClient(
                    port: port, target: "/v1/events?last_event_id=\(server.events.epoch)-0", headers: b)
            }
            server.events.publish("test.marker", data: ["marker": true])
            var seen: [SSETestClient.Event] = []
            while let event = try await blocking({ try stream.next() }), event.event != "test.marker" {
                seen.append(event)
            }
            #expect(!seen.contains { $0.data.contains(run) })

            // Idempotency keys are per tenant: B's same key makes B's own run, never A's.
            let idem = ["Idempotency-Key": "shared-\(UUID().uuidString)"]
            let first = try json(
                try await send("POST", base.appendingPathComponent(submit), request, nil, a.merging(idem) { $1 }).2)
            let second = try json(
                try await send("POST", base.appendingPathComponent(submit), request, nil, b.merging(idem) { $1 }).2)
            #expect(first["id"]?.stringValue != nil && first["id"] != second["id"])

            // An upload is its uploader's.
            let png = TinyPNG.make(width: 4, height: 4, seed: 9)
            let upload = try await TestHTTP.send(
                "POST", base.appendingPathComponent("v1/images"),
                headers: a.merging(["Content-Type": "image/png"]) { $1 },
                body: png)
            #expect(upload.status == 201)
            let name = try #require(try json(Data(upload.body))["name"]?.stringValue)
            #expect(try await send("GET", base.appendingPathComponent("v1/images/\(name)"), nil, nil, b).0 == 404)
            #expect(try await send("DELETE", base.appendingPathComponent("v1/images/\(name)"), nil, nil, b).0 == 404)
            #expect(try await send("GET", base.appendingPathComponent("v1/images/\(name)"), nil, nil, a).0 == 200)
            // Nor can B read it through a run: as an input it is an image InvokeAI does not have.
            let resize = URL(string: "\(base)/v1/workflows/resize-image/runs?wait=60")!
            let asInput: JSONValue = ["inputs": ["Image": .string(name), "Width": 6, "Height": 6]]
            let (refusedStatus, _, refusedBody) = try await send("POST", resize, asInput, nil, b)
            #expect(refusedStatus == 422)
            #expect(try json(refusedBody)["errors"]?[0]?["message"]?.stringValue == "no image \(name) in InvokeAI")
            let (ownStatus, _, ownBody) = try await send("POST", resize, asInput, nil, a)
            #expect(ownStatus == 200, "\(String(decoding: ownBody, as: UTF8.self))")
            #expect(try await send("DELETE", base.appendingPathComponent("v1/images/\(name)"), nil, nil, a).0 == 204)
            return (run, output)
        }

        // Another gateway process reads the run back from InvokeAI: still A's.
        try await LiveGateway.with(destination: destination, configure: { $0.keysFile = path }) { base, server in
            try await eventually(within: .seconds(60)) { server.runs.run(run)?.status == .completed }
            #expect(try await send("GET", base.appendingPathComponent("v1/runs/\(run)"), nil, nil, b).0 == 404)
            #expect(try await send("GET", base.appendingPathComponent("v1/images/\(output)"), nil, nil, b).0 == 404)
            let (status, _, body) = try await send("GET", base.appendingPathComponent("v1/runs/\(run)"), nil, nil, a)
            #expect(status == 200)
            #expect(try json(body)["status"]?.stringValue == "completed")
            #expect(try await send("GET", base.appendingPathComponent("v1/images/\(output)"), nil, nil, a).0 == 200)
        }
    }

    @Test func imagesTheGatewayDidNotMakeAreReadableButNotItsToDelete() async throws {
        // An image the GUI user uploaded straight to InvokeAI.
        let client = InvokeAIClient(baseURL: try LiveEnvironment.invokeAIURL())
        let gui = try await client.uploadImage(TinyPNG.make(width: 4, height: 4, seed: 21), fileName: "gui.png")
        try await LiveGateway.with { base, _ in
            // Without a keys file the caller is the anonymous admin: it may read every image...
            let image = base.appendingPathComponent("v1/images/\(gui.name)")
            #expect(try await send("GET", image, nil, nil, [:]).0 == 200)
            // ...but deletes only the gateway's own.
            let (status, _, body) = try await send("DELETE", image, nil, nil, [:])
            #expect(status == 403)
            #expect(try json(body)["detail"]?.stringValue?.contains("not this gateway's to delete") == true)
            let upload = try await TestHTTP.send(
                "POST", base.appendingPathComponent("v1/images"), headers: ["Content-Type": "image/png"],
                body: TinyPNG.make(width: 4, height: 4, seed: 22))
            let name = try #require(try json(Data(upload.body))["name"]?.stringValue)
            #expect(try await send("DELETE", base.appendingPathComponent("v1/images/\(name)"), nil, nil, [:]).0 == 204)
        }
        #expect(try await client.image(gui.name).name == gui.name)
        try await client.deleteImage(gui.name)
    }

    static func keysPath() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("live-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent("keys.json").path
    }
}
