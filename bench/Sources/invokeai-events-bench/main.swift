// The Swift side of bench/events (see bench/events/run). Not a test.
//
//   invokeai-events-bench record URL FILE STEPS   record the raw Engine.IO packets of a run
//   invokeai-events-bench decode FILE SECONDS      decode the recording in a loop: events/s
//   invokeai-events-bench latency URL STEPS STEP_MS  run gateway_test_slow with report_clock and
//                                                 print the progress-call -> typed-event latencies
import Foundation
import InvokeAI
import JSONValue

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("invokeai-events-bench: \(message)\n".utf8))
    exit(2)
}

func slowBatch(steps: Int, stepMs: Int, destination: String) -> JSONValue {
    [
        "graph": [
            "id": "bench",
            "nodes": [
                "slow": [
                    "id": "slow", "type": "gateway_test_slow", "steps": .int(steps), "step_ms": .int(stepMs),
                    "label": .string(destination), "report_clock": true,
                ]
            ], "edges": [],
        ],
        "runs": 1, "origin": "bench-events", "destination": .string(destination),
    ]
}

func runAndWait(_ client: InvokeAIClient, _ batch: JSONValue) async throws -> Int {
    let item = try await client.enqueueBatch(batch).itemIds[0]
    while try await !client.queueItem(item).status.isTerminal { try await Task.sleep(nanoseconds: 50_000_000) }
    return item
}

func record(url: URL, file: String, steps: Int) async throws {
    let socket = try await WebSocketClient.connect(
        host: url.host ?? "127.0.0.1", port: url.port ?? 80, path: "/ws/socket.io/?EIO=4&transport=websocket")
    let lines = LockedLines()
    let reader = Task {
        while true {
            guard case .text(let text)? = try? await socket.receive(timeout: nil) else { return }
            if text == "2" { try? await socket.send(text: "3"); continue }
            if text.hasPrefix("42") { lines.append(text) }
        }
    }
    try await socket.send(text: "40")
    try await socket.send(text: #"42["subscribe_queue",{"queue_id":"default"}]"#)
    try await Task.sleep(nanoseconds: 300_000_000)
    let client = InvokeAIClient(configuration: InvokeAIClientConfiguration(baseURL: url))
    _ = try await runAndWait(client, slowBatch(steps: steps, stepMs: 0, destination: "bench-record"))
    let failing: JSONValue = [
        "graph": ["id": "bench-fail", "nodes": ["boom": ["id": "boom", "type": "gateway_test_fail"]], "edges": []],
        "runs": 1, "origin": "bench-events", "destination": "bench-record",
    ]
    _ = try await runAndWait(client, failing)
    try await Task.sleep(nanoseconds: 500_000_000)
    socket.close()
    await reader.value
    let recorded = lines.all
    try (recorded.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
    print("recorded \(recorded.count) event packets to \(file)")
}

final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

/// The stream's own decoding path per packet: Engine.IO parse, Socket.IO parse (JSON), typed event.
func decode(file: String, seconds: Double) {
    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { fail("cannot read \(file)") }
    let packets = text.split(separator: "\n").map(String.init)
    guard !packets.isEmpty else { fail("no packets in \(file)") }
    let bytes = packets.reduce(0) { $0 + $1.utf8.count }
    var decoded = 0, typed = 0
    let start = Date()
    var rounds = 0
    while Date().timeIntervalSince(start) < seconds {
        for packet in packets {
            guard case .message(let sio)? = try? EngineIOPacket.parse(packet),
                let event = InvokeAIEvent.decode(socketIOText: sio)
            else { continue }
            decoded += 1
            if case .unknown = event {} else { typed += 1 }
        }
        rounds += 1
    }
    let elapsed = Date().timeIntervalSince(start)
    print(
        String(
            format:
                "decode: %d packets (%.0f bytes avg) x %d rounds: %.0f events/s on one thread (%.1f MB/s), %d%% typed",
            packets.count, Double(bytes) / Double(packets.count), rounds, Double(decoded) / elapsed,
            Double(bytes * rounds) / elapsed / 1e6, typed * 100 / max(1, decoded)))
}

func latency(url: URL, steps: Int, stepMs: Int) async throws {
    let client = InvokeAIClient(configuration: InvokeAIClientConfiguration(baseURL: url))
    let samples = LockedLines()
    let destination = ProcessInfo.processInfo.environment["BENCH_DESTINATION"] ?? "bench-latency"
    let stream = InvokeAIEventStream(
        client: client,
        onEvent: { event in
            let now = Date().timeIntervalSince1970
            guard case .invocationProgress(let info, let progress) = event, info.item.destination == destination,
                let range = progress.message.range(of: " t="), let sent = Double(progress.message[range.upperBound...])
            else { return }
            samples.append(String((now - sent) * 1000))
        })
    stream.start()
    defer { stream.stop(timeout: 5) }
    guard stream.waitUntilConnected(timeout: 20) else { fail("event stream did not connect: \(stream.state)") }
    _ = try await runAndWait(client, slowBatch(steps: steps, stepMs: stepMs, destination: destination))
    try await Task.sleep(nanoseconds: 500_000_000)
    let values = samples.all.compactMap(Double.init).sorted()
    guard !values.isEmpty else { fail("no progress events received") }
    func pct(_ p: Double) -> Double { values[min(values.count - 1, Int((Double(values.count) * p).rounded(.up)) - 1)] }
    print(
        String(
            format: "swift  latency: n=%d p50=%.3f ms p99=%.3f ms max=%.3f ms", values.count, pct(0.5), pct(0.99),
            values.last!))
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    fail("usage: record URL FILE STEPS | decode FILE SECONDS | latency URL STEPS STEP_MS")
}
switch arguments[1] {
case "record" where arguments.count == 5:
    guard let url = URL(string: arguments[2]), let steps = Int(arguments[4]) else { fail("bad arguments") }
    try await record(url: url, file: arguments[3], steps: steps)
case "decode" where arguments.count == 4:
    decode(file: arguments[2], seconds: Double(arguments[3]) ?? 3)
case "latency" where arguments.count == 5:
    guard let url = URL(string: arguments[2]), let steps = Int(arguments[3]), let stepMs = Int(arguments[4]) else {
        fail("bad arguments")
    }
    try await latency(url: url, steps: steps, stepMs: stepMs)
default:
    fail("usage: record URL FILE STEPS | decode FILE SECONDS | latency URL STEPS STEP_MS")
}
