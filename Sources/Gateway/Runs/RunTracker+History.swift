import Foundation
import InvokeAI
import JSONValue

/// Runs read from InvokeAI's queue history: after a gateway restart (the recent window, and
/// every run not ended), and one by one when a run older than the window is asked for.
/// History is walked newest first through item ids and item summaries (a few hundred bytes
/// each), never through one listing of every item ever enqueued; full items (with sessions)
/// are read only for the ended runs whose outputs are mapped.
extension RunTracker {
    /// Rebuilds this gateway's runs from InvokeAI's queue: the newest `maxRuns` runs of the last
    /// `maxAge`, and every run not ended however old. Ended runs keep their status, times,
    /// error and outputs, and their terminal event for their per-run stream; nothing is
    /// announced again on `/v1/events` (the previous process did that).
    public func recover() async throws(InvokeAIError) {
        let unfinished = try await upstream.unfinishedCount(destination: destination)
        let ids = try await upstream.itemIDs()
        let cutoff = Date().addingTimeInterval(-configuration.maxAge)
        var byBatch: [String: [QueueItemSummary]] = [:]
        var batchOrder: [String] = []
        var unfinishedSeen = 0
        var start = 0
        while start < ids.count {
            let page = Array(ids[start..<min(ids.count, start + InvokeAIClient.maxIDsPerRequest)])
            start += page.count
            // Item ids grow with time: once a whole page was created before the window, so was
            // everything after it.
            var pageOlderThanWindow = true
            for item in try await upstream.summaries(ids: page) {
                let created = Self.date(item.createdAt) ?? .distantPast
                if created >= cutoff { pageOlderThanWindow = false }
                guard item.destination == destination, Self.workflow(fromOrigin: item.origin) != nil else { continue }
                if !item.status.isTerminal { unfinishedSeen += 1 }
                let wanted =
                    !item.status.isTerminal || byBatch[item.batchId] != nil
                    || (batchOrder.count < configuration.maxRuns && created >= cutoff)
                guard wanted else { continue }
                if byBatch[item.batchId] == nil { batchOrder.append(item.batchId) }
                byBatch[item.batchId, default: []].append(item)
            }
            let windowFull = batchOrder.count >= configuration.maxRuns || pageOlderThanWindow
            if windowFull && unfinishedSeen >= unfinished { break }
        }
        var ended: [Run] = []
        state.withLock { s in
            for batch in batchOrder where s.table[batch] == nil {
                let run = Self.run(batch, from: byBatch[batch]!)
                s.table.insert(run)
                for item in run.itemIDs { s.runOfItem[item] = batch }
                if RunStatus.summarising(run.itemIDs.map { run.itemStatuses[$0] ?? .pending }).isTerminal {
                    s.finishing.insert(batch)
                    ended.append(run)
                }
            }
            s.table.sortByCreation()
        }
        await finishFromHistory(ended)
    }

    /// A run by id: from the table, else from InvokeAI's record when the batch is this
    /// gateway's (an ended run that left the window, a run enqueued by a process that crashed
    /// before answering). Nil when InvokeAI holds no such batch of ours.
    public func lookup(_ id: String) async throws(InvokeAIError) -> Run? {
        if let known = run(id) { return known }
        guard Self.isPlausibleBatchID(id) else { return nil }
        let status = try await upstream.batchStatus(id)
        guard status.exists, status.destination == destination, Self.workflow(fromOrigin: status.origin) != nil else {
            return nil
        }
        let summaries = try await upstream.summaries(ofBatch: id, expected: status.total)
        guard !summaries.isEmpty else { return nil }
        let run = Self.run(id, from: summaries)
        let isEnded = state.withLock { s -> Bool in
            guard s.table[id] == nil else { return false }
            s.table.insert(run)
            for item in run.itemIDs { s.runOfItem[item] = id }
            let ended = RunStatus.summarising(run.itemIDs.map { run.itemStatuses[$0] ?? .pending }).isTerminal
            if ended { s.finishing.insert(id) }
            return ended
        }
        if isEnded { await finishFromHistory([run]) }
        // Made newest in the table's order, so it stays while it is being looked at.
        return self.run(id)
    }

    /// Ended runs found in history get their record read (a few hundred items at a time) and
    /// are finished quietly.
    private func finishFromHistory(_ runs: [Run]) async {
        var chunk: [Run] = []
        var chunkItems = 0
        func flush() async {
            guard !chunk.isEmpty else { return }
            // A failed read leaves each run to `finish`, which reads its record itself and retries
            // (a run is never reported ended unread).
            let items = (try? await upstream.items(ids: chunk.flatMap(\.itemIDs))) ?? []
            let byBatch = Dictionary(grouping: items, by: \.batchId)
            for run in chunk {
                await finish(
                    run.id, announce: false, items: byBatch[run.id].flatMap { $0.count == run.itemIDs.count ? $0 : nil }
                )
            }
            chunk = []
            chunkItems = 0
        }
        for run in runs {
            chunk.append(run)
            chunkItems += run.itemIDs.count
            if chunkItems >= 200 { await flush() }
        }
        await flush()
    }

    /// A run as its item summaries describe it.
    static func run(_ id: String, from items: [QueueItemSummary]) -> Run {
        let origin = RunOrigin(parsing: items.first?.origin)
        var run = Run(
            id: id, workflow: origin?.workflow ?? "", owner: origin?.owner ?? "", itemIDs: items.map(\.itemId).sorted(),
            createdAt: date(items.compactMap(\.createdAt).min()) ?? Date())
        for item in items {
            run.itemStatuses[item.itemId] = item.status
            if let parent = item.parentItemId { run.itemParents[item.itemId] = parent }
        }
        let status = RunStatus.summarising(Array(run.itemStatuses.values))
        run.status = status.isTerminal ? .running : status // terminal once its record is read
        run.startedAt = date(items.compactMap(\.startedAt).min())
        return run
    }

    /// Batch ids are UUIDs or the gateway's own `idem-...` ids: anything else is not looked up.
    static func isPlausibleBatchID(_ id: String) -> Bool {
        (1...80).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x41 && byte <= 0x5a)
                    || byte == 0x2d || byte == 0x5f
            }
    }

    /// Lets go of ended runs beyond the window's count; they can be looked up again.
    func evictIfFull() {
        evict { $0.overCount(maxRuns: configuration.maxRuns) }
    }

    /// Lets go of ended runs older than the window's age (periodic upkeep).
    public func evictExpired(now: Date = Date()) {
        evict { $0.takeEnded(before: now.addingTimeInterval(-configuration.maxAge)) }
    }

    private func evict(_ choose: (inout RunTable) -> [String]) {
        let evicted = state.withLock { s -> [String] in
            let ids = choose(&s.table)
            for id in ids {
                if let run = s.table[id] { for item in run.itemIDs { s.runOfItem[item] = nil } }
                s.table.remove(id)
            }
            return ids
        }
        for id in evicted { cleaner.forget(run: id) }
    }
}
