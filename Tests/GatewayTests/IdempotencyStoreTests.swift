import Foundation
import Testing
@testable import Gateway

@Suite("Idempotency keys")
struct IdempotencyStoreTests {
    @Test func replaysTheSameRequestAndRefusesAnotherOne() throws {
        let store = IdempotencyStore(file: nil)
        #expect(store.check(key: "k", requestDigest: "a") == .new)
        try store.record(key: "k", requestDigest: "a", runID: "run-1")
        #expect(store.check(key: "k", requestDigest: "a") == .replay(runID: "run-1"))
        #expect(store.check(key: "k", requestDigest: "b") == .mismatch(runID: "run-1"))
        #expect(store.check(key: "other", requestDigest: "a") == .new)
    }

    @Test func keysSurviveARestartThroughTheFile() throws {
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("idem-\(UUID().uuidString)/keys.json")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        try IdempotencyStore(file: file).record(key: "k", requestDigest: "a", runID: "run-7")
        let reopened = IdempotencyStore(file: file)
        #expect(reopened.check(key: "k", requestDigest: "a") == .replay(runID: "run-7"))
    }

    @Test func entriesExpireAndTheCapacityIsBounded() throws {
        let start = Date(timeIntervalSince1970: 1_000_000)
        let store = IdempotencyStore(file: nil, lifetime: 60, capacity: 2)
        try store.record(key: "old", requestDigest: "a", runID: "1", now: start)
        #expect(store.check(key: "old", requestDigest: "a", now: start.addingTimeInterval(61)) == .new)
        try store.record(key: "a", requestDigest: "a", runID: "a", now: start.addingTimeInterval(1))
        try store.record(key: "b", requestDigest: "b", runID: "b", now: start.addingTimeInterval(2))
        try store.record(key: "c", requestDigest: "c", runID: "c", now: start.addingTimeInterval(3))
        let later = start.addingTimeInterval(4)
        #expect(store.check(key: "c", requestDigest: "c", now: later) == .replay(runID: "c"))
        #expect(store.check(key: "b", requestDigest: "b", now: later) == .replay(runID: "b"))
        #expect(store.check(key: "old", requestDigest: "a", now: later) == .new)
        #expect(store.check(key: "a", requestDigest: "a", now: later) == .new)
    }
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
