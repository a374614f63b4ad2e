import Foundation
import InvokeAI
import JSONValue

/// A run's end, confirmed against InvokeAI's record before it is reported, once.
extension RunTracker {
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
            jobs.schedule(after: delay, .task { await self.finish(id, announce: announce, attempt: attempt + 1) })
            return
        }
        let (finished, waiters, before) = state.withLock { s -> (Run?, [Waiter], RunStatus) in
            guard var run = s.table[id], !run.status.isTerminal else { return (nil, [], .queued) }
            let before = run.status
            for item in confirmed.items {
                run.itemStatuses[item.itemId] = item.status
                if let parent = item.parentItemId { run.itemParents[item.itemId] = parent }
                if !run.itemIDs.contains(item.itemId) { run.itemIDs.append(item.itemId); s.runOfItem[item.itemId] = id }
            }
            // A retried item is superseded by its newest retry: the run ends as its last attempts did.
            let superseded = Self.superseded(confirmed.items)
            let status = RunStatus.summarising(
                run.itemIDs.filter { !superseded.contains($0) }.map { run.itemStatuses[$0] ?? .pending })
            guard status.isTerminal else {
                // InvokeAI's record says an item still runs (an event raced ahead of the record):
                // its own status change will end the run.
                s.finishing.remove(id)
                return (nil, [], before)
            }
            if let failure = confirmed.items.filter({ !superseded.contains($0.itemId) }).compactMap(\.failure).first {
                run.error = Run.error(failure, node: run.error?["node"] ?? run.progress?["node"] ?? .null)
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
            // Published under the tracker's lock (the hub never calls back into it): no reader
            // can see the run ended before its terminal event is out. A run found in history was
            // announced by the process that saw it end: only the streams following this run by
            // id hear of it now (they must end).
            run.terminalEventID =
                hub.publish(
                    "run.\(status.rawValue)", run: id, workflow: run.workflow, owner: run.owner, data: .object(data),
                    runStreamsOnly: !announce
                ).id
            s.table[id] = run
            s.finishing.remove(id)
            let waiters = Array((s.waiters.removeValue(forKey: id) ?? [:]).values)
            return (run, waiters, before)
        }
        for waiter in waiters {
            if let timer = waiter.timer { jobs.cancel(timer) }
            waiter.continuation.resume()
        }
        guard let finished else { return }
        transitions.tell(.ended(finished, from: before, items: confirmed.items, date: Self.date))
        // Inputs the gateway uploaded for this run are not needed any more.
        cleaner.remove(finished.uploadedImages, run: finished.id, reason: "input uploaded for the run")
        evictIfFull()
    }

    /// Items InvokeAI retried: of each original item and its retries (`retried_from_item_id`
    /// names the original), all but the newest.
    static func superseded(_ items: [InvokeAIQueueItem]) -> Set<Int> {
        let originals = items.map { ($0.itemId, $0.raw["retried_from_item_id"]?.intValue ?? $0.itemId) }
        var newest: [Int: Int] = [:]
        for (id, original) in originals { newest[original] = max(newest[original] ?? id, id) }
        return Set(originals.filter { id, original in newest[original] != id }.map(\.0))
    }

    struct ConfirmedEnd {
        var items: [InvokeAIQueueItem]
        var outputs: JSONValue
    }

    /// The run's items as InvokeAI records them, with outputs mapped and each output image's
    /// record (board, the session that made it) read. Throws when any of it cannot be read.
    func confirmEnd(of run: Run, given: [InvokeAIQueueItem]?) async throws(InvokeAIError) -> ConfirmedEnd {
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
            outputs = Run.outputs(
                outputs,
                describedBy: Dictionary(records.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }),
                sessions: sessions)
        }
        return ConfirmedEnd(items: items, outputs: outputs)
    }
}
