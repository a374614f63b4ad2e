import Foundation
import InvokeAI
import JSONValue
import Synchronization

/// Follows the gateway's runs so that what it says of each is what InvokeAI's queue records:
/// InvokeAI's events (only those of the gateway's destination, or of a batch it knows) move
/// them and become the gateway's own events on the hub; an ended run is confirmed against
/// InvokeAI's record (its items, their sessions, the output images' records) before it is
/// reported ended, exactly once. After an upstream reconnect, a queue clear or a gateway
/// restart, runs are read again from InvokeAI, so no end is missed or reported twice.
///
/// Memory is bounded: ended runs leave the table by count and age (`RunTrackerConfiguration`)
/// and are read from InvokeAI again when asked for (`lookup`).
public final class RunTracker: Sendable {
    /// Maps a finished run's queue items to its outputs (the workflow engine's job).
    public typealias OutputMapper = @Sendable (_ workflow: String, _ items: [InvokeAIQueueItem]) async -> JSONValue

    public let destination: String
    public let configuration: RunTrackerConfiguration
    /// Deletes the images runs leave behind (inputs the gateway uploaded, outputs on request).
    public let cleaner: ImageCleaner
    /// Outputs of an ended run are deleted this long after it ended; nil keeps them.
    public let outputTTL: TimeInterval?
    let upstream: RunUpstream
    let hub: EventHub
    private let mapOutputs: OutputMapper

    struct Waiter {
        let continuation: CheckedContinuation<Void, Never>
        var timer: Task<Void, Never>?
    }

    struct State {
        var table = RunTable()
        var runOfItem: [Int: String] = [:]
        /// Runs whose end is being confirmed (so it is reported once).
        var finishing: Set<String> = []
        var waiters: [String: [UUID: Waiter]] = [:]
        /// Sessions of this gateway's items watched through their events, by item id.
        var sessions: [Int: ObservedSession] = [:]
        /// Bumped on every connect and disconnect of InvokeAI's event stream.
        var streamEpoch = 0
    }

    let state = Mutex(State())
    private let outputsFromEvents = Atomic(0)
    private let outputsReadBack = Atomic(0)
    let readBackFailures = Atomic(0)

    /// Reads of an ended run's record that failed (each is retried).
    public var readBackFailureCount: Int { readBackFailures.load(ordering: .relaxed) }

    /// How ended runs got their outputs: from the events watched, or read back from InvokeAI.
    public var outputSources: (events: Int, readBack: Int) {
        (outputsFromEvents.load(ordering: .relaxed), outputsReadBack.load(ordering: .relaxed))
    }

    public init(upstream: RunUpstream, hub: EventHub, destination: String, configuration: RunTrackerConfiguration = RunTrackerConfiguration(),
                cleaner: ImageCleaner, outputTTL: TimeInterval? = nil, mapOutputs: @escaping OutputMapper) {
        self.upstream = upstream
        self.cleaner = cleaner
        self.outputTTL = outputTTL
        self.hub = hub
        self.destination = destination
        self.configuration = configuration
        self.mapOutputs = mapOutputs
    }

    public convenience init(client: InvokeAIClient, hub: EventHub, destination: String, configuration: RunTrackerConfiguration = RunTrackerConfiguration(),
                            outputTTL: TimeInterval? = nil, mapOutputs: @escaping OutputMapper) {
        self.init(upstream: InvokeAIRunUpstream(client: client), hub: hub, destination: destination, configuration: configuration,
                  cleaner: ImageCleaner(client: client), outputTTL: outputTTL, mapOutputs: mapOutputs)
    }

    /// The origin written on a run's batch: it names the workflow, so a restarted gateway knows it.
    public static func origin(for workflow: String) -> String { "invokeai-gateway:\(workflow)" }

    static func workflow(fromOrigin origin: String?) -> String? {
        guard let origin, origin.hasPrefix("invokeai-gateway:") else { return nil }
        return String(origin.dropFirst("invokeai-gateway:".count))
    }

    // MARK: reading

    /// The run, when it is in the table (see `lookup` for older ones).
    public func run(_ id: String) -> Run? { state.withLock { $0.table[id] }.map(withCleanup) }

    /// A page of runs, newest first, optionally filtered, and how many match in all. Walks the
    /// table in its creation order: nothing is sorted per request.
    public func runs(workflow: String? = nil, status: RunStatus? = nil, offset: Int = 0, limit: Int = Int.max) -> (page: [Run], total: Int) {
        let (page, total) = state.withLock { s in
            s.table.page(offset: offset, limit: limit) { run in
                (workflow == nil || run.workflow == workflow) && (status == nil || run.status == status)
            }
        }
        return (page.map(withCleanup), total)
    }

    /// How many runs the table holds now.
    public var count: Int { state.withLock { $0.table.count } }

    /// The run with what the cleaner did for it.
    private func withCleanup(_ run: Run) -> Run {
        var run = run
        run.cleanupState = cleaner.status(of: run.id)
        return run
    }

    // MARK: registering

    /// A batch was just enqueued for `run`. When its events came first (a fast run, adopted from
    /// them, perhaps already ended), what they taught is kept and the submission's facts are added.
    public func register(_ run: Run) {
        enum Outcome { case queued(Run), known(Run) }
        let outcome: Outcome = state.withLock { s in
            for item in run.itemIDs { s.runOfItem[item] = run.id }
            guard var known = s.table[run.id] else {
                s.table.insert(run)
                return .queued(run)
            }
            for item in run.itemIDs where !known.itemIDs.contains(item) { known.itemIDs.append(item) }
            known.uploadedImages = run.uploadedImages
            known.cleanup = run.cleanup
            known.nodeSteps = run.nodeSteps
            known.models = run.models
            s.table[run.id] = known
            return .known(known)
        }
        switch outcome {
        case .queued(let run):
            hub.publish("run.queued", run: run.id, workflow: run.workflow, data: .object(run.eventData))
        case .known(let known) where known.status.isTerminal:
            // It ended before its submission was answered: its inputs can go now.
            cleaner.remove(known.uploadedImages, run: known.id, reason: "input uploaded for the run")
        case .known:
            break
        }
        evictIfFull()
    }

    // MARK: events

    /// Called on the event stream's thread for every InvokeAI event.
    public func handle(_ event: InvokeAIEvent) {
        switch event {
        case .queueItemStatusChanged(let change):
            guard isOurs(change.item) else { return }
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
            guard isOurs(info.item) else { return }
            state.withLock { s in
                guard s.sessions[info.item.itemId]?.streamEpoch == s.streamEpoch else { return }
                s.sessions[info.item.itemId]?.record(info, result: result)
            }
            guard let run = runID(of: info) else { return }
            publishNode("node.completed", run: run, info: info, extra: [:])
        case .invocationError(let info, let failure):
            guard let run = runID(of: info) else { return }
            update(run) { $0.error = ["type": .string(failure.errorType), "message": .string(failure.errorMessage), "node": .string(info.sourceNodeId)] }
        case .queueItemsCanceled(_, let itemIds):
            // Pending items cancelled in bulk get no per-item status change: this is their end.
            for item in itemIds { apply(status: .canceled, item: item, failure: nil) }
        case .queueCleared:
            // Every item not running was removed or cancelled: ask InvokeAI what is left.
            Task { await self.reconcile() }
        case .batchEnqueued, .unknown:
            break
        }
    }

    /// InvokeAI's event stream connected or lost its connection: sessions watched before may
    /// have missed events, so their runs' outputs are read back instead.
    public func eventStreamChanged() {
        state.withLock { $0.streamEpoch += 1 }
    }

    /// Re-reads every run not yet ended: what a reconnect or a queue clear may have hidden.
    public func reconcile() async {
        let pending = state.withLock { s in s.table.unfinished.flatMap(\.itemIDs) }
        guard !pending.isEmpty, let items = try? await upstream.summaries(ids: pending) else { return }
        let found = Set(items.map(\.itemId))
        for item in items { apply(status: item.status, item: item.itemId, failure: nil) }
        // An item InvokeAI no longer holds (deleted with a cleared queue) will never end by
        // itself: it did not run to completion, so it counts as canceled.
        for item in pending where !found.contains(item) { apply(status: .canceled, item: item, failure: nil) }
    }

    /// Ours: tagged with the gateway's destination, or in a batch the gateway knows (child items
    /// of a workflow call are copies of their parent item, tags included).
    private func isOurs(_ item: QueueItemRef) -> Bool {
        item.destination == destination || state.withLock { $0.table[item.batchId] != nil }
    }

    /// Starts watching an item's session when it starts (redacted events carry no results).
    private func observe(_ change: QueueItemStatusChange) {
        state.withLock { s in
            if change.status == .inProgress, !change.item.isRedacted {
                // An item resumed after waiting keeps what it was seen doing before.
                if s.sessions[change.item.itemId]?.streamEpoch != s.streamEpoch {
                    s.sessions[change.item.itemId] = ObservedSession(streamEpoch: s.streamEpoch)
                }
            } else if change.status == .waiting {
                s.sessions[change.item.itemId]?.waited()
            } else if change.status.isTerminal {
                s.sessions[change.item.itemId]?.ended(change)
            }
        }
    }

    /// The run's items as watched, when every one completed on the current connection; nil
    /// when they must be read back. Forgets the watched sessions either way.
    func observedItems(of run: Run) -> [InvokeAIQueueItem]? {
        state.withLock { s in
            let watched = run.itemIDs.map { s.sessions.removeValue(forKey: $0) }
            guard !run.gainedItems else { return nil }
            let items = watched.compactMap { session in
                session.flatMap { $0.streamEpoch == s.streamEpoch ? $0.completedItem : nil }
            }
            return items.count == run.itemIDs.count && !items.isEmpty ? items : nil
        }
    }

    private func runID(of info: InvocationInfo) -> String? {
        state.withLock { s in
            guard info.item.destination == destination || s.table[info.item.batchId] != nil else { return nil }
            return s.runOfItem[info.item.itemId]
        }
    }

    /// An item of ours that this process did not enqueue: enqueued before a restart, a child
    /// item of a workflow call, or a retry of a failed or canceled item (InvokeAI adds both to the
    /// same batch). A retry reopens an ended run: it runs again and ends again (its new end is
    /// announced like the first).
    private func adoptIfUnknown(_ item: QueueItemRef) {
        let reopened: Run? = state.withLock { s in
            guard s.runOfItem[item.itemId] == nil else { return nil }
            if s.table[item.batchId] == nil {
                guard let workflow = Self.workflow(fromOrigin: item.origin) else { return nil }
                s.table.insert(Run(id: item.batchId, workflow: workflow, itemIDs: []))
            }
            s.runOfItem[item.itemId] = item.batchId
            var reopened: Run?
            s.table.modify(item.batchId) { run in
                if !run.itemIDs.isEmpty { run.gainedItems = true }
                run.itemIDs.append(item.itemId)
                guard run.status.isTerminal else { return }
                run.status = .running
                run.completedAt = nil
                run.terminalEventData = nil
                run.error = nil
                reopened = run
            }
            return reopened
        }
        if let reopened {
            var data = reopened.eventData
            data["retried_item"] = .int(item.itemId)
            hub.publish("run.started", run: reopened.id, workflow: reopened.workflow, data: .object(data))
        }
    }

    /// One item's new status. Terminal item statuses are final; a run whose items all ended is
    /// confirmed against InvokeAI's record before it is reported ended (`finish`).
    func apply(status: QueueItemStatus, item: Int, failure: InvocationFailure?, parent: Int? = nil) {
        enum Outcome { case none, started(Run), ended(String) }
        let outcome: Outcome = state.withLock { s in
            guard let id = s.runOfItem[item], var run = s.table[id], !run.status.isTerminal else { return .none }
            // A terminal item status is final: a later report of another status is stale.
            if let known = run.itemStatuses[item], known.isTerminal { return .none }
            run.itemStatuses[item] = status
            if let parent { run.itemParents[item] = parent }
            if let failure, run.error == nil {
                run.error = ["type": .string(failure.errorType), "message": .string(failure.errorMessage), "node": run.progress?["node"] ?? .null]
            }
            let before = run.status
            let after = RunStatus.summarising(run.itemIDs.map { run.itemStatuses[$0] ?? .pending })
            if after == .running, run.startedAt == nil { run.startedAt = Date() }
            if after.isTerminal {
                // Stays as it was until InvokeAI's record confirms the end; `finish` makes it terminal.
                s.table[id] = run
                guard s.finishing.insert(id).inserted else { return .none }
                return .ended(id)
            }
            run.status = after
            s.table[id] = run
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

    // MARK: ending

    /// Confirms an ended run against InvokeAI's record (its items, or the sessions watched in
    /// full; the output images' records), maps its outputs, marks it terminal and tells
    /// everyone, once. When the record cannot be read, the run is not reported ended: it says
    /// why (`read_back_error`) and the read is tried again with growing pauses.
    func finish(_ id: String, announce: Bool, items given: [InvokeAIQueueItem]? = nil, attempt: Int = 0) async {
        guard let run = self.run(id) else { return }
        let confirmed: ConfirmedEnd
        do {
            confirmed = try await confirmEnd(of: run, given: given)
        } catch {
            readBackFailures.add(1, ordering: .relaxed)
            state.withLock { s in s.table.modify(id) { $0.readBackError = error.description } }
            let delay = configuration.readBackRetryDelays[min(attempt, configuration.readBackRetryDelays.count - 1)]
            Task {
                try? await Task.sleep(for: delay)
                await self.finish(id, announce: announce, attempt: attempt + 1)
            }
            return
        }
        let (finished, waiters) = state.withLock { s -> (Run?, [Waiter]) in
            guard var run = s.table[id], !run.status.isTerminal else { return (nil, []) }
            for item in confirmed.items {
                run.itemStatuses[item.itemId] = item.status
                if let parent = item.parentItemId { run.itemParents[item.itemId] = parent }
                if !run.itemIDs.contains(item.itemId) { run.itemIDs.append(item.itemId); s.runOfItem[item.itemId] = id }
            }
            // A retried item is superseded by its newest retry: the run ends as its last attempts did.
            let superseded = Self.superseded(confirmed.items)
            let status = RunStatus.summarising(run.itemIDs.filter { !superseded.contains($0) }.map { run.itemStatuses[$0] ?? .pending })
            guard status.isTerminal else {
                // InvokeAI's record says an item still runs (an event raced ahead of the record):
                // its own status change will end the run.
                s.finishing.remove(id)
                return (nil, [])
            }
            if let failure = confirmed.items.filter({ !superseded.contains($0.itemId) }).compactMap(\.failure).first {
                run.error = ["type": .string(failure.errorType), "message": .string(failure.errorMessage),
                             "node": run.error?["node"] ?? run.progress?["node"] ?? .null]
            }
            run.status = status
            run.outputs = confirmed.outputs
            run.readBackError = nil
            // InvokeAI's times, where its record has them.
            if let created = Self.date(confirmed.items.compactMap(\.createdAt).min()) { run.createdAt = created }
            if let started = Self.date(confirmed.items.compactMap(\.startedAt).min()) { run.startedAt = started }
            run.completedAt = Self.date(confirmed.items.compactMap(\.completedAt).max()) ?? run.completedAt ?? Date()
            run.progress = nil
            var data = run.eventData
            switch status {
            case .completed: data["outputs"] = run.outputs
            case .failed: data["error"] = run.error ?? .null
            default: break
            }
            run.terminalEventData = data
            s.table[id] = run
            s.finishing.remove(id)
            let waiters = Array((s.waiters.removeValue(forKey: id) ?? [:]).values)
            return (run, waiters)
        }
        if let finished, let data = finished.terminalEventData {
            // A run found in history was announced by the process that saw it end: only the
            // streams following this run by id hear of it now (they must end).
            hub.publish("run.\(finished.status.rawValue)", run: finished.id, workflow: finished.workflow, data: .object(data),
                        runStreamsOnly: !announce)
        }
        // After the event: whoever waited sees the end already announced.
        for waiter in waiters {
            waiter.timer?.cancel()
            waiter.continuation.resume()
        }
        guard let finished else { return }
        // Inputs the gateway uploaded for this run are not needed any more.
        cleaner.remove(finished.uploadedImages, run: finished.id, reason: "input uploaded for the run")
        evictIfFull()
    }

    /// Items InvokeAI retried: of each original item and its retries (`retried_from_item_id`
    /// names the original), all but the newest.
    static func superseded(_ items: [InvokeAIQueueItem]) -> Set<Int> {
        var newest: [Int: Int] = [:]
        for item in items {
            let original = item.raw["retried_from_item_id"]?.intValue ?? item.itemId
            newest[original] = max(newest[original] ?? item.itemId, item.itemId)
        }
        return Set(items.map(\.itemId).filter { id in
            let original = items.first { $0.itemId == id }?.raw["retried_from_item_id"]?.intValue ?? id
            return newest[original] != id
        })
    }

    struct ConfirmedEnd {
        var items: [InvokeAIQueueItem]
        var outputs: JSONValue
    }

    /// The run's items as InvokeAI records them, with outputs mapped and each output image's
    /// record (board, the session that made it) read. Throws when any of it cannot be read.
    private func confirmEnd(of run: Run, given: [InvokeAIQueueItem]?) async throws(InvokeAIError) -> ConfirmedEnd {
        let items: [InvokeAIQueueItem]
        if let given {
            items = given
        } else if let observed = observedItems(of: run) {
            items = observed
            outputsFromEvents.add(1, ordering: .relaxed)
        } else {
            // InvokeAI answered: items it no longer holds were deleted (a cleared queue). Their
            // end is what its events said; there is nothing more to read.
            items = try await upstream.items(ids: run.itemIDs)
            outputsReadBack.add(1, ordering: .relaxed)
        }
        var outputs = items.isEmpty ? JSONValue.array([]) : await mapOutputs(run.workflow, items)
        let names = Run.imageNames(in: outputs)
        if !names.isEmpty {
            let records = try await upstream.images(named: names)
            let sessions = Set(items.compactMap(\.sessionId))
            outputs = Run.outputs(outputs, describedBy: Dictionary(records.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }),
                                  sessions: sessions)
        }
        return ConfirmedEnd(items: items, outputs: outputs)
    }

    // MARK: cleanup of outputs

    /// An output image was just fetched in full: when its run asked for `"cleanup": "outputs"`
    /// and made the image itself, it is deleted now.
    public func outputFetched(_ imageName: String) {
        let owner = state.withLock { s in
            s.table.first { run in
                run.cleanup == "outputs" && run.status.isTerminal && run.ownedOutputImageNames.contains(imageName)
            }?.id
        }
        if let owner { cleaner.remove([imageName], run: owner, reason: "output fetched (cleanup: outputs)") }
    }

    /// Deletes the output images an ended run made itself, now (`DELETE /v1/runs/{id}/outputs`).
    public func deleteOutputs(of id: String) async -> Run? {
        guard let run = run(id), run.status.isTerminal else { return run(id) }
        await cleaner.removeNow(run.ownedOutputImageNames, run: id, reason: "outputs deleted on request")
        return self.run(id)
    }

    /// Deletes the outputs of runs that ended more than `outputTTL` ago.
    public func expireOutputs(now: Date = Date()) {
        guard let ttl = outputTTL else { return }
        let expired = state.withLock { s in
            s.table.filter { run in
                run.status.isTerminal && (run.completedAt.map { now.timeIntervalSince($0) >= ttl } ?? false)
            }.map { ($0.id, $0.ownedOutputImageNames) }
        }
        for (id, names) in expired {
            let left = names.filter { !cleaner.isHandled($0, run: id) }
            if !left.isEmpty { cleaner.remove(left, run: id, reason: "output past its time-to-live") }
        }
    }

    // MARK: waiting and cancelling

    /// Waits until the run is terminal or `timeout` seconds pass; returns the run as it is then.
    /// The timer is cancelled when the run ends first.
    public func wait(_ id: String, timeout: Double) async -> Run? {
        let token = UUID()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                guard let run = s.table[id], !run.status.isTerminal else { return true }
                s.waiters[id, default: [:]][token] = Waiter(continuation: continuation)
                return false
            }
            if ready { continuation.resume(); return }
            let timer = Task {
                try? await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
                guard !Task.isCancelled else { return }
                let expired = self.state.withLock { $0.waiters[id]?.removeValue(forKey: token) }
                expired?.continuation.resume()
            }
            let ended = state.withLock { s -> Bool in
                guard s.waiters[id]?[token] != nil else { return true }
                s.waiters[id]?[token]?.timer = timer
                return false
            }
            if ended { timer.cancel() }
        }
        return run(id)
    }

    /// How many `?wait` timers are running (for tests and metrics).
    public var waiterCount: Int { state.withLock { $0.waiters.values.reduce(0) { $0 + $1.count } } }

    /// Cancels the run's batch upstream, then reads its items back: pending items cancelled in
    /// bulk end here even when the bulk event is missed.
    public func cancel(_ id: String) async throws(InvokeAIError) {
        try await upstream.cancel(batch: id)
        guard let run = run(id), let items = try? await upstream.summaries(ids: run.itemIDs) else { return }
        for item in items where item.status.isTerminal { apply(status: item.status, item: item.itemId, failure: nil) }
    }

    // MARK: helpers

    private func update(_ id: String, _ change: (inout Run) -> Void) {
        state.withLock { s in
            guard let run = s.table[id], !run.status.isTerminal else { return }
            s.table.modify(id, change)
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

    static func string(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }

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
