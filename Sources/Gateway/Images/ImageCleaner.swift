import Foundation
import InvokeAI
import JSONValue
import Logging
import Synchronization

/// Deletes images upstream for the gateway: inputs it uploaded for a run, outputs a run asked to
/// drop, outputs past their time-to-live. A deletion that fails for a reason that may pass
/// (InvokeAI unreachable, timed out, 5xx, 429) is tried again after each of `retryDelays`; one
/// that still fails, or fails for good, stays listed with its error. Never silent: each image's
/// state is visible on its run (`cleanup`) and counted in `/metrics`. Deletions in the
/// background and every retry are jobs on its queue, done inside `run()` (its tracker runs it).
public final class ImageCleaner: GatewayService {
    public typealias Delete = @Sendable (String) async throws(InvokeAIError) -> Void

    /// One image that could not be deleted.
    public struct Failure: Sendable {
        public let image: String
        public let reason: String
        public let attempts: Int
        public let error: String

        var json: JSONValue {
            ["image": .string(image), "reason": .string(reason), "attempts": .int(attempts), "error": .string(error)]
        }
    }

    /// Totals since start, for `/metrics`.
    public struct Counts: Sendable {
        public var deleted = 0
        public var retried = 0
        public var failed = 0
    }

    private struct State {
        /// Run id -> images still being deleted (first attempt or waiting for a retry).
        var pending: [String: Set<String>] = [:]
        /// Run id -> images given up on.
        var failures: [String: [Failure]] = [:]
        /// Run id -> images deleted.
        var deleted: [String: Set<String>] = [:]
        var counts = Counts()
    }

    private let delete: Delete
    private let retryDelays: [Duration]
    private let state = Mutex(State())
    let jobs = JobQueue()
    /// Made when the cleaner is, after the process bootstrapped its logging.
    private let logger = Logger(label: "gateway.images")

    public init(retryDelays: [Duration] = [.seconds(2), .seconds(10), .seconds(60)], delete: @escaping Delete) {
        self.retryDelays = retryDelays
        self.delete = delete
    }

    public convenience init(client: InvokeAIClient) {
        self.init { name throws(InvokeAIError) in try await client.deleteImage(name) }
    }

    /// Does the deletions queued and the retries due until cancelled; images still pending
    /// then stay listed as pending.
    public func run() async { await jobs.run() }

    /// Queues `images` of `run` for deletion in the background (one after another); returns at once.
    public func remove(_ images: [String], run: String, reason: String) {
        let fresh = claim(images, run: run)
        guard !fresh.isEmpty else { return }
        jobs.submit {
            for image in fresh { await self.attempt(image, run: run, reason: reason) }
        }
    }

    /// Deletes `images` for `run` and returns once each has been tried once (retries go on in
    /// the background); `status(of:)` then tells what happened.
    public func removeNow(_ images: [String], run: String, reason: String) async {
        let fresh = claim(images, run: run)
        await withTaskGroup(of: Void.self) { group in
            for image in fresh {
                group.addTask { await self.attempt(image, run: run, reason: reason) }
            }
        }
    }

    /// What happened to the images of `run`: `nil` when it never had any.
    public func status(of run: String) -> JSONValue? {
        state.withLock { Self.status(of: run, in: $0) }
    }

    /// `status(of:)` of each run, in one look.
    func status(ofRuns runs: [String]) -> [JSONValue?] {
        state.withLock { s in runs.map { Self.status(of: $0, in: s) } }
    }

    private static func status(of run: String, in s: State) -> JSONValue? {
        let pending = s.pending[run] ?? [], failures = s.failures[run] ?? [], deleted = s.deleted[run] ?? []
        guard !pending.isEmpty || !failures.isEmpty || !deleted.isEmpty else { return nil }
        return [
            "deleted": .array(deleted.sorted().map { .string($0) }),
            "pending": .array(pending.sorted().map { .string($0) }),
            "failed": .array(failures.map(\.json)),
        ]
    }

    public var counts: Counts { state.withLock { $0.counts } }

    /// Drops what is known of a run that left the tracker's table (its deletions in flight go on).
    public func forget(run: String) {
        state.withLock { s in
            if s.pending[run]?.isEmpty ?? true { s.pending[run] = nil }
            s.failures[run] = nil
            s.deleted[run] = nil
        }
    }

    /// Whether `image` of `run` is already deleted, pending or given up on.
    public func isHandled(_ image: String, run: String) -> Bool {
        state.withLock { s in
            (s.pending[run]?.contains(image) ?? false) || (s.deleted[run]?.contains(image) ?? false)
                || (s.failures[run]?.contains { $0.image == image } ?? false)
        }
    }

    // MARK: work

    /// The images not already handled, now marked pending.
    private func claim(_ images: [String], run: String) -> [String] {
        state.withLock { s in
            var fresh: [String] = []
            for image in images
            where !(s.pending[run]?.contains(image) ?? false) && !(s.deleted[run]?.contains(image) ?? false) {
                s.failures[run]?.removeAll { $0.image == image } // asked again: try again
                s.pending[run, default: []].insert(image)
                fresh.append(image)
            }
            return fresh
        }
    }

    /// Tries to delete `image` (attempt number `attempt`). After a failure that may pass, the
    /// next attempt is scheduled on the cleaner's queue, once per entry of `retryDelays`.
    private func attempt(_ image: String, run: String, reason: String, number attempt: Int = 1) async {
        do {
            try await delete(image)
            finish(image, run: run, failure: nil)
        } catch {
            let metadata: Logger.Metadata = [
                "image": "\(image)", "run": "\(run)", "attempt": "\(attempt)", "error": "\(error.description)",
            ]
            guard Self.isRetryable(error), attempt <= retryDelays.count else {
                logger.warning("could not delete image \(image) (\(reason)); giving up", metadata: metadata)
                finish(
                    image, run: run,
                    failure: Failure(image: image, reason: reason, attempts: attempt, error: error.description))
                return
            }
            logger.notice("could not delete image \(image) (\(reason)); retrying", metadata: metadata)
            state.withLock { $0.counts.retried += 1 }
            // Refused only once the cleaner has stopped (the gateway is stopping): it stays pending.
            jobs.schedule(
                after: retryDelays[attempt - 1],
                .task { await self.attempt(image, run: run, reason: reason, number: attempt + 1) })
        }
    }

    private func finish(_ image: String, run: String, failure: Failure?) {
        state.withLock { s in
            s.pending[run]?.remove(image)
            if let failure {
                s.failures[run, default: []].append(failure)
                s.counts.failed += 1
            } else {
                s.deleted[run, default: []].insert(image)
                s.counts.deleted += 1
            }
        }
    }

    /// Trouble that may pass: no connection, no answer, InvokeAI overloaded or failing.
    static func isRetryable(_ error: InvokeAIError) -> Bool {
        if error.isTransport { return true }
        if let code = error.statusCode { return code == 429 || code >= 500 }
        return false
    }
}
