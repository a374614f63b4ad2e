import Foundation
import InvokeAI
import JSONValue
import Synchronization
import TestSupport
import Testing

@testable import Gateway

/// The cleaner against a scripted `delete`: each image fails with the listed errors in turn,
/// then succeeds.
@Suite("Image cleanup")
struct ImageCleanerTests {
    final class Upstream: Sendable {
        let script: Mutex<[String: [InvokeAIError]]>
        let calls = Mutex<[String]>([])
        init(_ script: [String: [InvokeAIError]] = [:]) { self.script = Mutex(script) }

        func delete(_ name: String) throws(InvokeAIError) {
            calls.withLock { $0.append(name) }
            let next: InvokeAIError? = script.withLock { s in
                guard var errors = s[name], !errors.isEmpty else { return nil }
                let first = errors.removeFirst()
                s[name] = errors
                return first
            }
            if let next { throw next }
        }
    }

    private func cleaner(_ upstream: Upstream, delays: Int = 3) -> ImageCleaner {
        ImageCleaner(retryDelays: Array(repeating: .milliseconds(5), count: delays)) { name throws(InvokeAIError) in
            try upstream.delete(name)
        }
    }

    private func list(_ status: JSONValue?, _ key: String) -> [String] {
        status?[key]?.arrayValue?.compactMap { $0.stringValue ?? $0["image"]?.stringValue } ?? []
    }

    @Test func deletedImagesAreListedOnTheirRunAndCounted() async throws {
        let upstream = Upstream()
        let cleaner = cleaner(upstream)
        try await whileRunning(cleaner) {
            #expect(cleaner.status(of: "r") == nil)
            cleaner.remove(["a.png", "b.png"], run: "r", reason: "input")
            try await eventually { cleaner.counts.deleted == 2 }
            #expect(list(cleaner.status(of: "r"), "deleted") == ["a.png", "b.png"])
            #expect(list(cleaner.status(of: "r"), "pending").isEmpty)
            // Asking again for an image already deleted does nothing.
            cleaner.remove(["a.png"], run: "r", reason: "input")
            #expect(upstream.calls.withLock { $0.count } == 2)
        }
    }

    @Test func troubleThatMayPassIsRetriedUntilItWorks() async throws {
        let upstream = Upstream(["a.png": [.cannotConnect("refused"), .status(503, message: "busy", detail: nil)]])
        let cleaner = cleaner(upstream)
        try await whileRunning(cleaner) {
            cleaner.remove(["a.png"], run: "r", reason: "input")
            try await eventually { cleaner.counts.deleted == 1 }
            #expect(cleaner.counts.retried == 2)
            #expect(cleaner.counts.failed == 0)
            #expect(upstream.calls.withLock { $0 } == ["a.png", "a.png", "a.png"])
        }
    }

    @Test func aRefusalIsNotRetriedAndStaysVisibleWithItsCause() async throws {
        let upstream = Upstream(["a.png": [.status(403, message: "not yours", detail: nil)]])
        let cleaner = cleaner(upstream)
        try await whileRunning(cleaner) {
            cleaner.remove(["a.png"], run: "r", reason: "output fetched")
            try await eventually { cleaner.counts.failed == 1 }
            let failed = try #require(cleaner.status(of: "r")?["failed"]?[0])
            #expect(failed["image"] == "a.png")
            #expect(failed["attempts"] == 1)
            #expect(failed["reason"] == "output fetched")
            #expect(failed["error"]?.stringValue?.contains("403") == true)
            #expect(cleaner.counts.retried == 0)
        }
    }

    @Test func retriesEndAndTheFailureIsKept() async throws {
        let upstream = Upstream(["a.png": Array(repeating: .timedOut("DELETE"), count: 10)])
        let cleaner = cleaner(upstream, delays: 2)
        try await whileRunning(cleaner) {
            cleaner.remove(["a.png"], run: "r", reason: "input")
            try await eventually { cleaner.counts.failed == 1 }
            #expect(cleaner.status(of: "r")?["failed"]?[0]?["attempts"] == 3)
            #expect(cleaner.counts.retried == 2)
            // Asked again later (say, DELETE /v1/runs/{id}/outputs): tried afresh, and it works now.
            upstream.script.withLock { $0["a.png"] = [] }
            await cleaner.removeNow(["a.png"], run: "r", reason: "on request")
            #expect(list(cleaner.status(of: "r"), "deleted") == ["a.png"])
            #expect(list(cleaner.status(of: "r"), "failed").isEmpty)
        }
    }

    @Test func removeNowReturnsAfterTheFirstAttemptAndRetriesGoOn() async throws {
        // a.png: the first attempt cannot connect; the retry waits for the test to open the gate.
        let attempts = Mutex(0), gateOpen = Mutex(false)
        let cleaner = ImageCleaner(retryDelays: [.milliseconds(5)]) { name throws(InvokeAIError) in
            guard name == "a.png" else { return }
            let attempt = attempts.withLock {
                $0 += 1; return $0
            }
            if attempt == 1 { throw .cannotConnect("refused") }
            while !gateOpen.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
        }
        // A retry held at the gate would keep the cleaner from stopping if the test ended early.
        defer { gateOpen.withLock { $0 = true } }
        try await whileRunning(cleaner) {
            await cleaner.removeNow(["a.png", "b.png"], run: "r", reason: "on request")
            #expect(list(cleaner.status(of: "r"), "deleted") == ["b.png"])
            #expect(list(cleaner.status(of: "r"), "pending") == ["a.png"])
            gateOpen.withLock { $0 = true }
            try await eventually { cleaner.counts.deleted == 2 }
            #expect(attempts.withLock { $0 } == 2)
        }
    }
}
