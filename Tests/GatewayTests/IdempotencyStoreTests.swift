import Foundation
import GatewayTestSupport
import Synchronization
import Testing

@testable import Gateway

@Suite("Idempotency keys")
struct IdempotencyStoreTests {
    @Test func aKeyKeepsItsFirstDigestAndNamesOneBatchPerDestination() throws {
        let store = IdempotencyStore(file: nil)
        #expect(store.digest(for: "k") == nil)
        try store.remember(key: "k", requestDigest: "a")
        try store.remember(key: "k", requestDigest: "b") // a retry with another body does not rewrite it
        #expect(store.digest(for: "k") == "a")
        #expect(store.batchID(for: "k") == store.batchID(for: "k"))
        #expect(store.batchID(for: "k") != store.batchID(for: "k2"))
        #expect(
            store.batchID(for: "k") != IdempotencyStore(file: nil, destination: "another-gateway").batchID(for: "k"))
        #expect(store.batchID(for: "k").hasPrefix("idem-") && store.batchID(for: "k").count == 37)
    }

    /// Keys that cannot be read are not silently forgotten: the gateway refuses to start.
    @Test func aFileOfKeysThatCannotBeReadStopsTheGatewayFromStarting() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("idem-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        // A folder where the file should be: it exists, and reading it fails.
        let file = state.appendingPathComponent("idempotency-keys.jsonl")
        try FileManager.default.createDirectory(at: file, withIntermediateDirectories: true)
        #expect(IdempotencyStore(file: file).loadFailure?.contains(file.path) == true)
        #expect(IdempotencyStore(file: nil).loadFailure == nil)
        #expect(throws: GatewayStartError.self) {
            try GatewayServer(
                configuration: GatewayConfiguration(
                    invokeAIURL: try GatewayHTTP.deadUpstream(), followsUpstreamEvents: false,
                    stateDirectory: state.path))
        }
    }

    @Test func digestsSurviveARestartThroughTheAppendOnlyFile() throws {
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("idem-\(UUID().uuidString)/keys.jsonl")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        try IdempotencyStore(file: file).remember(key: "k", requestDigest: "a")
        try IdempotencyStore(file: file).remember(key: "j", requestDigest: "b")
        // A torn last line (a crash mid-append) is skipped.
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"k":"torn","d":"#.utf8))
        try handle.close()
        let reopened = IdempotencyStore(file: file)
        #expect(reopened.digest(for: "k") == "a" && reopened.digest(for: "j") == "b")
        #expect(reopened.count == 2)
    }

    /// Keys a gateway recorded in the old whole-file format keep their runs after an upgrade.
    @Test func keysOfTheOldFormatAreCarriedOverWithTheirRuns() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("idem-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(#"{"old-key":{"requestDigest":"a","runID":"run-7","created":"2026-12-06T10:00:00Z"}}"#.utf8)
            .write(to: folder.appendingPathComponent("idempotency-keys.json"))
        let file = folder.appendingPathComponent("idempotency-keys.jsonl")
        let store = IdempotencyStore(file: file, lifetime: 365 * 24 * 3600)
        #expect(store.batchID(for: "old-key") == "run-7")
        #expect(store.digest(for: "old-key") == "a")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("idempotency-keys.json").path))
        #expect(IdempotencyStore(file: file, lifetime: 365 * 24 * 3600).batchID(for: "old-key") == "run-7")
    }

    @Test func entriesExpireAndTheCapacityIsBounded() throws {
        let start = Date(timeIntervalSince1970: 1_000_000)
        let store = IdempotencyStore(file: nil, lifetime: 60, capacity: 2)
        try store.remember(key: "old", requestDigest: "a", now: start)
        #expect(store.digest(for: "old", now: start.addingTimeInterval(61)) == nil)
        try store.remember(key: "a", requestDigest: "a", now: start.addingTimeInterval(1))
        try store.remember(key: "b", requestDigest: "b", now: start.addingTimeInterval(2))
        try store.remember(key: "c", requestDigest: "c", now: start.addingTimeInterval(3))
        let later = start.addingTimeInterval(4)
        #expect(store.digest(for: "c", now: later) == "c")
        #expect(store.digest(for: "b", now: later) == "b")
        #expect(store.digest(for: "a", now: later) == nil)
        #expect(store.count == 2)
    }

    /// One appended line per new key: the file holds live keys plus a bounded share of old lines,
    /// however many keys come and go.
    @Test func theFileIsCompactedSoItsSizeFollowsTheLiveKeys() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("idem-\(UUID().uuidString)/keys.jsonl")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let store = IdempotencyStore(file: file, capacity: 100)
        for i in 0..<5000 { try store.remember(key: "key-\(i)", requestDigest: "d") }
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").count
        #expect(store.count == 100)
        #expect(lines <= 2 * 100 + 1001)
        #expect(IdempotencyStore(file: file, capacity: 100).digest(for: "key-4999") == "d")
    }

    /// Requests with one key take turns: a second waits until the first is done.
    @Test func requestsWithOneKeyTakeTurns() async throws {
        let store = IdempotencyStore(file: nil)
        let counts = TurnCounter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await store.withKey("same") {
                        counts.enter()
                        try await Task.sleep(for: .milliseconds(5))
                        counts.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(counts.most == 1)
    }
}

/// How many callers were inside at once, at most.
final class TurnCounter: Sendable {
    private let state = Mutex((inside: 0, most: 0))
    func enter() {
        state.withLock {
            $0.inside += 1; $0.most = max($0.most, $0.inside)
        }
    }
    func leave() { state.withLock { $0.inside -= 1 } }
    var most: Int { state.withLock { $0.most } }
}

@Suite("Workflow names")
struct WorkflowSlugTests {
    @Test func slugsAreURLSafe() {
        #expect(WorkflowSlug.make(from: "Text to Image - SD1.5") == "text-to-image-sd1-5")
        #expect(WorkflowSlug.make(from: "  ÜBER/../Flux!! ") == "ber-flux")
        #expect(WorkflowSlug.make(from: "***") == "")
        #expect(WorkflowSlug.make(from: String(repeating: "ab ", count: 50)).utf8.count <= WorkflowSlug.maxLength)
        #expect(WorkflowSlug.isValid("my-flow-2"))
        #expect(!WorkflowSlug.isValid("My Flow"))
        #expect(!WorkflowSlug.isValid(""))
    }

    @Test func collisionsAreResolvedInOrder() {
        let names = WorkflowSlug.assign(["Upscale", "upscale!", "Upscale", "***"], title: { $0 }, taken: ["upscale-2"])
        #expect(names.map(\.name) == ["upscale", "upscale-3", "upscale-4", "workflow"])
    }
}
