import Foundation
import InvokeAI
import JSONValue
import Synchronization

/// Follows the gateway's runs: InvokeAI's events (only those of the gateway's destination) update
/// them and become the gateway's own events on the hub; outputs are mapped from the sessions the
/// events described (read back over REST when events may have been missed); after an upstream reconnect or a gateway restart, runs are re-read so no end
/// is missed or reported twice.
public final class RunTracker: Sendable {
    /// Maps a finished run's queue items to its outputs (the workflow engine's job).
    public typealias OutputMapper = @Sendable (_ workflow: String, _ items: [InvokeAIQueueItem]) -> JSONValue

    public let destination: String
    /// Deletes the images runs leave behind (inputs the gateway uploaded, outputs on request).
    public let cleaner: ImageCleaner
    /// Outputs of an ended run are deleted this long after it ended; nil keeps them.
    public let outputTTL: TimeInterval?
    private let client: InvokeAIClient
    private let hub: EventHub
    private let mapOutputs: OutputMapper

    private struct State {
        var runs: [String: Run] = [:]
        var runOfItem: [Int: String] = [:]
        /// Runs whose end is being read back (so it is reported once).
        var finishing: Set<String> = []
        var waiters: [String: [UUID: CheckedContinuation<Void, Never>]] = [:]
        /// Sessions of this gateway's items watched through their events, by item id.
        var sessions: [Int: ObservedSession] = [:]
        /// Bumped on every connect and disconnect of InvokeAI's event stream.
        var streamEpoch = 0
    }

    private let state = Mutex(State())
    private let outputsFromEvents = Atomic(0)
    private let outputsReadBack = Atomic(0)

    /// How ended runs got their outputs: from the events watched, or read back from InvokeAI.
    public var outputSources: (events: Int, readBack: Int) {
        (outputsFromEvents.load(ordering: .relaxed), outputsReadBack.load(ordering: .relaxed))
    }

    public init(client: InvokeAIClient, hub: EventHub, destination: String, cleaner: ImageCleaner? = nil,
                outputTTL: TimeInterval? = nil, mapOutputs: @escaping OutputMapper) {
        self.client = client
        self.cleaner = cleaner ?? ImageCleaner(client: client)
        self.outputTTL = outputTTL
        self.hub = hub
        self.destination = destination
        self.mapOutputs = mapOutputs
    }

    /// The origin written on a run's batch: it names the workflow, so a restarted gateway knows it.
    public static func origin(for workflow: String) -> String { "invokeai-gateway:\(workflow)" }

    static func workflow(fromOrigin origin: String?) -> String? {
        guard let origin, origin.hasPrefix("invokeai-gateway:") else { return nil }
        return String(origin.dropFirst("invokeai-gateway:".count))
    }

    // MARK: reading

    public func run(_ id: String) -> Run? { state.withLock { $0.runs[id] }.map(withCleanup) }

    /// Newest first, optionally filtered.
    public func runs(workflow: String? = nil, status: RunStatus? = nil) -> [Run] {
        state.withLock { s in
            s.runs.values.filter { run in
                (workflow == nil || run.workflow == workflow) && (status == nil || run.status == status)
            }.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
        }.map(withCleanup)
    }

    /// The run with what the cleaner did for it.
    private func withCleanup(_ run: Run) -> Run {
        var run = run
        run.cleanupState = cleaner.status(of: run.id)
        return run
    }

    // MARK: registering

    /// A batch was just enqueued for `run`.
    public func register(_ run: Run) {
        state.withLock { s in
            // The events of a fast run may have come first: keep what they taught.
            var merged = run
            if let known = s.runs[run.id] {
                merged.itemStatuses = known.itemStatuses
                merged.status = known.status
                merged.startedAt = known.startedAt
                merged.progress = known.progress
            }
            s.runs[run.id] = merged
            for item in run.itemIDs { s.runOfItem[item] = run.id }
        }
        hub.publish("run.queued", run: run.id, workflow: run.workflow, data: .object(run.eventData))
    }

    /// Rebuilds the runs of this gateway from InvokeAI's queue (after a gateway restart).
    public func recover() async throws(InvokeAIError) {
        let items = try await client.queueItems(destination: destination)
        let byBatch = Dictionary(grouping: items, by: \.batchId)
        var toFinish: [String] = []
        state.withLock { s in
            for (batch, items) in byBatch where s.runs[batch] == nil {
                guard let workflow = Self.workflow(fromOrigin: items.first?.origin) else { continue }
                var run = Run(id: batch, workflow: workflow, itemIDs: items.map(\.itemId).sorted(),
                              createdAt: Self.date(items.compactMap(\.createdAt).min()) ?? Date())
                for item in items { run.itemStatuses[item.itemId] = item.status }
                run.status = RunStatus.summarising(Array(run.itemStatuses.values))
                run.startedAt = Self.date(items.compactMap(\.startedAt).min())
                s.runs[batch] = run
                for item in items { s.runOfItem[item.itemId] = batch }
                if run.status.isTerminal { toFinish.append(batch) }
            }
        }
        // Finished runs get their outputs mapped, quietly (their events were sent by the
        // previous process; ids from it are answered with a gap).
        for batch in toFinish { await finish(batch, announce: false) }
    }

    /// Re-reads every run not yet terminal: what a reconnect may have missed.
    public func reconcile() async {
        let pending = state.withLock { s in s.runs.values.filter { !$0.status.isTerminal }.flatMap(\.itemIDs) }
        guard !pending.isEmpty, let items = try? await client.queueItems(ids: pending) else { return }
        for item in items { apply(status: item.status, item: item.itemId, failure: item.failure) }
    }

    // MARK: events

    /// Called on the event stream's thread for every InvokeAI event.
    public func handle(_ event: InvokeAIEvent) {
        switch event {
        case .queueItemStatusChanged(let change):
            guard change.item.destination == destination else { return }
            observe(change)
            adoptIfUnknown(change.item)
            apply(status: change.status, item: change.item.itemId, failure: change.failure)
        case .invocationStarted(let info):
            guard let run = runID(of: info) else { return }
            update(run) { $0.progress = ["node": .string(info.sourceNodeId), "node_type": Self.string(info.invocationType), "message": .null, "percentage": .null] }
            publishNode("node.started", run: run, info: info, extra: [:])
        case .invocationProgress(let info, let progress):
            guard let run = runID(of: info) else { return }
            var fields: JSONObject = ["message": .string(progress.message), "percentage": progress.percentage.map { .double($0) } ?? .null]
            if let fraction = progress.percentage, let total = self.run(run)?.nodeSteps[info.sourceNodeId] {
                fields["step"] = .int(min(total, max(0, Int((fraction * Double(total)).rounded()))))
                fields["total"] = .int(total)
            }
            update(run) { [fields] in
                var progress = fields
                progress["node"] = .string(info.sourceNodeId)
                progress["node_type"] = Self.string(info.invocationType)
                $0.progress = .object(progress)
            }
            publishNode("node.progress", run: run, info: info, extra: fields, preview: progress.image)
        case .invocationComplete(let info, let result):
            guard info.item.destination == destination else { return }
            state.withLock { s in
                guard s.sessions[info.item.itemId]?.streamEpoch == s.streamEpoch else { return }
                s.sessions[info.item.itemId]?.record(info, result: result)
            }
            guard let run = runID(of: info) else { return }
            publishNode("node.completed", run: run, info: info, extra: [:])
        case .invocationError(let info, let failure):
            guard let run = runID(of: info) else { return }
            update(run) { $0.error = ["type": .string(failure.errorType), "message": .string(failure.errorMessage), "node": .string(info.sourceNodeId)] }
        case .queueItemsCanceled, .queueCleared, .batchEnqueued, .unknown:
            // Status changes follow for each affected item; nothing to do here.
            break
        }
    }

    /// InvokeAI's event stream connected or lost its connection: sessions watched before may
    /// have missed events, so their runs' outputs are read back instead.
    public func eventStreamChanged() {
        state.withLock { $0.streamEpoch += 1 }
    }

    /// Starts watching an item's session when it starts (redacted events carry no results).
    private func observe(_ change: QueueItemStatusChange) {
        state.withLock { s in
            if change.status == .inProgress, !change.item.isRedacted {
                s.sessions[change.item.itemId] = ObservedSession(streamEpoch: s.streamEpoch)
            } else if change.status.isTerminal {
                s.sessions[change.item.itemId]?.ended(change)
            }
        }
    }

    /// The run's items as watched, when every one completed on the current connection; nil
    /// when they must be read back. Forgets the watched sessions either way.
    private func observedItems(of run: Run) -> [InvokeAIQueueItem]? {
        state.withLock { s in
            let watched = run.itemIDs.map { s.sessions.removeValue(forKey: $0) }
            let items = watched.compactMap { session in
                session.flatMap { $0.streamEpoch == s.streamEpoch ? $0.completedItem : nil }
            }
            return items.count == run.itemIDs.count && !items.isEmpty ? items : nil
        }
    }

    private func runID(of info: InvocationInfo) -> String? {
        guard info.item.destination == destination else { return nil }
        return state.withLock { $0.runOfItem[info.item.itemId] }
    }

    /// An item of ours that this process did not enqueue (enqueued before a restart).
    private func adoptIfUnknown(_ item: QueueItemRef) {
        guard let workflow = Self.workflow(fromOrigin: item.origin) else { return }
        state.withLock { s in
            guard s.runOfItem[item.itemId] == nil else { return }
            if s.runs[item.batchId] == nil { s.runs[item.batchId] = Run(id: item.batchId, workflow: workflow, itemIDs: []) }
            s.runs[item.batchId]!.itemIDs.append(item.itemId)
            s.runOfItem[item.itemId] = item.batchId
        }
    }

    private func apply(status: QueueItemStatus, item: Int, failure: InvocationFailure?) {
        enum Outcome { case none, started(Run), ended(String) }
        let outcome: Outcome = state.withLock { s in
            guard let id = s.runOfItem[item], var run = s.runs[id], !run.status.isTerminal else { return .none }
            // A terminal item status is final: a later report of another status is stale.
            if let known = run.itemStatuses[item], known.isTerminal { return .none }
            run.itemStatuses[item] = status
            if let failure, run.error == nil {
                run.error = ["type": .string(failure.errorType), "message": .string(failure.errorMessage), "node": run.progress?["node"] ?? .null]
            }
            let before = run.status
            let statuses = run.itemIDs.map { run.itemStatuses[$0] ?? .pending }
            let after = RunStatus.summarising(statuses)
            if after == .running, run.startedAt == nil { run.startedAt = Date() }
            if after.isTerminal {
                // Stays "running" until the outputs are read back; `finish` makes it terminal.
                s.runs[id] = run
                guard !s.finishing.contains(id) else { return .none }
                s.finishing.insert(id)
                return .ended(id)
            }
            run.status = after
            s.runs[id] = run
            return before == .queued && after == .running ? .started(run) : .none
        }
        switch outcome {
        case .none: break
        case .started(let run):
            hub.publish("run.started", run: run.id, workflow: run.workflow, data: .object(run.eventData))
        case .ended(let id):
            Task { await self.finish(id, announce: true) }
        }
    }

    /// Reads the ended run's items back, maps its outputs, marks it terminal, tells everyone.
    private func finish(_ id: String, announce: Bool) async {
        guard let run = self.run(id) else { return }
        let items: [InvokeAIQueueItem]
        if let observed = observedItems(of: run) {
            items = observed
            outputsFromEvents.add(1, ordering: .relaxed)
        } else {
            items = (try? await client.queueItems(ids: run.itemIDs)) ?? []
            outputsReadBack.add(1, ordering: .relaxed)
        }
        let outputs = items.isEmpty ? JSONValue.array([]) : mapOutputs(run.workflow, items)
        let (finished, waiters) = state.withLock { s -> (Run?, [CheckedContinuation<Void, Never>]) in
            guard var run = s.runs[id], !run.status.isTerminal else { return (nil, []) }
            for item in items { run.itemStatuses[item.itemId] = item.status }
            if run.error == nil, let failure = items.compactMap(\.failure).first {
                run.error = ["type": .string(failure.errorType), "message": .string(failure.errorMessage), "node": run.progress?["node"] ?? .null]
            }
            run.status = RunStatus.summarising(run.itemIDs.map { run.itemStatuses[$0] ?? .pending })
            if !run.status.isTerminal { run.status = .failed }  // read back as not ended: should not happen; never hang a waiter
            run.outputs = outputs
            run.completedAt = Self.date(items.compactMap(\.completedAt).max()) ?? Date()
            run.progress = nil
            s.runs[id] = run
            s.finishing.remove(id)
            let waiters = Array((s.waiters.removeValue(forKey: id) ?? [:]).values)
            return (run, waiters)
        }
        for waiter in waiters { waiter.resume() }
        guard let finished else { return }
        if announce {
            var data = finished.eventData
            switch finished.status {
            case .completed: data["outputs"] = finished.outputs
            case .failed: data["error"] = finished.error ?? .null
            default: break
            }
            hub.publish("run.\(finished.status.rawValue)", run: finished.id, workflow: finished.workflow, data: .object(data))
        }
        // Inputs the gateway uploaded for this run are not needed any more.
        cleaner.remove(finished.uploadedImages, run: finished.id, reason: "input uploaded for the run")
    }

    /// An output image was just fetched in full: when its run asked for `"cleanup": "outputs"`,
    /// it is deleted now.
    public func outputFetched(_ imageName: String) {
        let owner = state.withLock { s in
            s.runs.values.first { run in
                run.cleanup == "outputs" && run.status.isTerminal && run.outputImageNames.contains(imageName)
            }?.id
        }
        if let owner { cleaner.remove([imageName], run: owner, reason: "output fetched (cleanup: outputs)") }
    }

    /// Deletes every output image of an ended run now (`DELETE /v1/runs/{id}/outputs`).
    public func deleteOutputs(of id: String) async -> Run? {
        guard let run = run(id), run.status.isTerminal else { return run(id) }
        await cleaner.removeNow(run.outputImageNames, run: id, reason: "outputs deleted on request")
        return self.run(id)
    }

    /// Deletes the outputs of runs that ended more than `outputTTL` ago.
    public func expireOutputs(now: Date = Date()) {
        guard let ttl = outputTTL else { return }
        let expired = state.withLock { s in
            s.runs.values.filter { run in
                run.status.isTerminal && (run.completedAt.map { now.timeIntervalSince($0) >= ttl } ?? false)
            }.map { ($0.id, $0.outputImageNames) }
        }
        for (id, names) in expired {
            let left = names.filter { !cleaner.isHandled($0, run: id) }
            if !left.isEmpty { cleaner.remove(left, run: id, reason: "output past its time-to-live") }
        }
    }

    // MARK: waiting and cancelling

    /// Waits until the run is terminal or `timeout` seconds pass; returns the run as it is then.
    public func wait(_ id: String, timeout: Double) async -> Run? {
        let token = UUID()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                guard let run = s.runs[id], !run.status.isTerminal else { return true }
                s.waiters[id, default: [:]][token] = continuation
                return false
            }
            if ready { continuation.resume(); return }
            Task {
                try? await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
                let expired = self.state.withLock { $0.waiters[id]?.removeValue(forKey: token) }
                expired?.resume()
            }
        }
        return run(id)
    }

    /// Cancels the run's batch upstream; the canceled status arrives as events.
    public func cancel(_ id: String) async throws(InvokeAIError) {
        _ = try await client.cancelBatches([id])
    }

    // MARK: helpers

    private func update(_ id: String, _ change: (inout Run) -> Void) {
        state.withLock { s in
            guard var run = s.runs[id], !run.status.isTerminal else { return }
            change(&run)
            s.runs[id] = run
        }
    }

    private func publishNode(_ type: String, run id: String, info: InvocationInfo, extra: JSONObject, preview: JSONValue? = nil) {
        guard let run = self.run(id) else { return }
        var data = extra
        data["run"] = .string(id)
        data["workflow"] = .string(run.workflow)
        data["node"] = .string(info.sourceNodeId)
        data["node_type"] = Self.string(info.invocationType)
        hub.publish(type, run: id, workflow: run.workflow, data: .object(data), preview: preview)
    }

    private static func string(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }

    /// InvokeAI writes times as `2026-11-22 18:49:14.869` (UTC, no zone).
    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd HH:mm:ss.SSS", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.SSSSSS", "yyyy-MM-dd'T'HH:mm:ss"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
