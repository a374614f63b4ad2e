import Foundation
import InvokeAI
import JSONValue

/// InvokeAI's events, turned into run state and the gateway's own events: per-item status
/// changes, bulk cancels, a cleared queue, waiting and child items, retries.
extension RunTracker {
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
            update(run) {
                $0.progress = [
                    "node": .string(info.sourceNodeId), "node_type": Self.string(info.invocationType), "message": .null,
                    "percentage": .null,
                ]
            }
            publishNode("node.started", run: run, info: info, extra: [:])
        case .invocationProgress(let info, let progress):
            guard let run = runID(of: info) else { return }
            var fields: JSONObject = [
                "message": .string(progress.message), "percentage": progress.percentage.map { .double($0) } ?? .null,
            ]
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
            update(run) { $0.error = Run.error(failure, node: .string(info.sourceNodeId)) }
        case .queueItemsCanceled(_, let itemIds):
            // Pending items cancelled in bulk get no per-item status change: this is their end.
            for item in itemIds { apply(status: .canceled, item: item, failure: nil) }
        case .queueCleared:
            // Every item not running was removed or cancelled: ask InvokeAI what is left.
            jobs.submit { await self.reconcile() }
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
    public func reconcile() async { await reconcile(attempt: 0) }

    /// A read that fails is tried again with growing pauses, as a failed read-back is.
    func reconcile(attempt: Int) async {
        let pending = state.withLock { s in s.table.unfinished.flatMap(\.itemIDs) }
        guard !pending.isEmpty else { return }
        let items: [QueueItemSummary]
        do {
            items = try await upstream.summaries(ids: pending)
        } catch {
            let delay = configuration.readBackRetryDelays[min(attempt, configuration.readBackRetryDelays.count - 1)]
            jobs.schedule(after: delay, .task { await self.reconcile(attempt: attempt + 1) })
            return
        }
        let found = Set(items.map(\.itemId))
        for item in items { apply(status: item.status, item: item.itemId, failure: nil) }
        // An item InvokeAI no longer holds (deleted with a cleared queue) will never end by
        // itself: it did not run to completion, so it counts as canceled.
        for item in pending where !found.contains(item) { apply(status: .canceled, item: item, failure: nil) }
    }

    /// Ours: tagged with the gateway's destination, or in a batch the gateway knows (child items
    /// of a workflow call are copies of their parent item, tags included).
    func isOurs(_ item: QueueItemRef) -> Bool {
        state.withLock { isOurs(item, in: $0) }
    }

    private func isOurs(_ item: QueueItemRef, in s: State) -> Bool {
        item.destination == destination || s.table[item.batchId] != nil
    }

    /// Starts watching an item's session when it starts (redacted events carry no results).
    func observe(_ change: QueueItemStatusChange) {
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

    func runID(of info: InvocationInfo) -> String? {
        state.withLock { s in
            guard isOurs(info.item, in: s) else { return nil }
            return s.runOfItem[info.item.itemId]
        }
    }

    /// An item of ours that this process did not enqueue: enqueued before a restart, a child
    /// item of a workflow call, or a retry of a failed or canceled item (InvokeAI adds both to the
    /// same batch). A retry reopens an ended run: it runs again and ends again (its new end is
    /// announced like the first).
    func adoptIfUnknown(_ item: QueueItemRef) {
        let (reopened, adopted) = state.withLock { s -> (Run?, Run?) in
            guard s.runOfItem[item.itemId] == nil else { return (nil, nil) }
            var adopted: Run?
            if s.table[item.batchId] == nil {
                guard let origin = RunOrigin(parsing: item.origin) else { return (nil, nil) }
                let run = Run(id: item.batchId, workflow: origin.workflow, owner: origin.owner, itemIDs: [])
                s.table.insert(run)
                adopted = run
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
            return (reopened, adopted)
        }
        // Its events came before its submission was answered (or another gateway process enqueued it).
        if let adopted { transitions.tell(RunTransition(adopted, from: nil, to: .queued)) }
        if let reopened {
            transitions.tell(RunTransition(reopened, from: nil, to: .running))
            var data = reopened.eventData
            data["retried_item"] = .int(item.itemId)
            hub.publish(
                "run.started", run: reopened.id, workflow: reopened.workflow, owner: reopened.owner, data: .object(data)
            )
        }
    }

    /// One item's new status. Terminal item statuses are final; a run whose items all ended is
    /// confirmed against InvokeAI's record before it is reported ended (`finish`).
    func apply(status: QueueItemStatus, item: Int, failure: InvocationFailure?) {
        enum Outcome { case none, started(Run), ended(String) }
        let outcome: Outcome = state.withLock { s in
            guard let id = s.runOfItem[item], var run = s.table[id], !run.status.isTerminal else { return .none }
            // A terminal item status is final: a later report of another status is stale.
            if let known = run.itemStatuses[item], known.isTerminal { return .none }
            run.itemStatuses[item] = status
            if let failure, run.error == nil {
                run.error = Run.error(failure, node: run.progress?["node"] ?? .null)
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
            transitions.tell(RunTransition(run, from: .queued, to: .running))
            hub.publish(
                "run.started", run: run.id, workflow: run.workflow, owner: run.owner, data: .object(run.eventData))
        case .ended(let id):
            jobs.submit { await self.finish(id, announce: true) }
        }
    }
}
