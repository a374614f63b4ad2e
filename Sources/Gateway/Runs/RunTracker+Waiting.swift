import Foundation
import InvokeAI
import JSONValue

/// Output cleanup (only images the run made), `?wait`, and cancelling.
extension RunTracker {
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

    /// Deletes the outputs of runs that ended `outputTTL` ago or more: each run's once per ending
    /// (the table holds ended runs by when they ended, so this takes only those due).
    public func expireOutputs(now: Date = Date()) {
        guard let ttl = outputTTL else { return }
        let expired = state.withLock { s in
            s.table.takeOutputsExpired(atOrBefore: now.addingTimeInterval(-ttl)).map {
                ($0.id, $0.ownedOutputImageNames)
            }
        }
        for (id, names) in expired {
            let left = names.filter { !cleaner.isHandled($0, run: id) }
            if !left.isEmpty { cleaner.remove(left, run: id, reason: "output past its time-to-live") }
        }
    }

    // MARK: waiting and cancelling

    /// Waits until the run is terminal, `timeout` seconds pass, the calling task is cancelled
    /// or the tracker stops; returns the run as it is then. The timeout is a job on the
    /// tracker's queue (one timer loop for every waiter), dropped when the run ends first.
    public func wait(_ id: String, timeout: Double) async -> Run? {
        let token = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Cancellation is marked before the handler runs, and both take the lock.
                let waiting = state.withLock { s -> Bool in
                    guard let run = s.table[id], !run.status.isTerminal, !Task.isCancelled else { return false }
                    s.waiters[id, default: [:]][token] = Waiter(continuation: continuation)
                    return true
                }
                guard waiting else { return continuation.resume() }
                let timer = jobs.schedule(
                    after: .milliseconds(Int(timeout * 1000)), .inline { self.release(id, waiter: token) })
                guard let timer else { return release(id, waiter: token) } // the tracker has stopped
                let kept = state.withLock { s -> Bool in
                    guard s.waiters[id]?[token] != nil else { return false }
                    s.waiters[id]?[token]?.timer = timer
                    return true
                }
                if !kept { jobs.cancel(timer) } // the run ended meanwhile
            }
        } onCancel: {
            release(id, waiter: token)
        }
        return run(id)
    }

    /// Ends one `?wait` (timed out, or its request went away), if it is still waiting.
    private func release(_ id: String, waiter token: UUID) {
        let waiter = state.withLock { s -> Waiter? in
            let waiter = s.waiters[id]?.removeValue(forKey: token)
            if s.waiters[id]?.isEmpty == true { s.waiters[id] = nil }
            return waiter
        }
        guard let waiter else { return }
        if let timer = waiter.timer { jobs.cancel(timer) }
        waiter.continuation.resume()
    }

    /// How many `?wait` requests are waiting (for tests and metrics).
    public var waiterCount: Int { state.withLock { $0.waiters.values.reduce(0) { $0 + $1.count } } }

    /// Cancels the run's batch upstream, then reads its items back: pending items cancelled in
    /// bulk end here even when the bulk event is missed.
    public func cancel(_ id: String) async throws(InvokeAIError) {
        try await upstream.cancel(batch: id)
        // The cancel was sent: when this read fails, the run still ends through its events.
        guard let run = run(id), let items = try? await upstream.summaries(ids: run.itemIDs) else { return }
        for item in items where item.status.isTerminal { apply(status: item.status, item: item.itemId, failure: nil) }
    }
}
