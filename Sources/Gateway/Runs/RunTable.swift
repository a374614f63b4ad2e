import Foundation
import Transport

/// The runs the tracker holds, by id, and for every filter a page can ask for (a workflow, a
/// status, both or neither) in creation order, so a page newest first walks back only as far as
/// it reaches (O(offset + limit), whatever the filter), and its total is a count kept as runs
/// come, change and go. A run that stops matching a filter (a status change, a removal) leaves a
/// hole in that filter's list, skipped by walks and compacted away when holes outnumber runs.
/// Each run can keep its JSON as last written (`keepJSON`), dropped when it changes. Ended runs
/// are also held by when they ended, so upkeep by age takes only the runs it acts on.
struct RunTable {
    /// A page's filter: a workflow, a status, both or neither; each for one owner (a tenant
    /// that is not an admin) or for all.
    struct Filter: Hashable {
        var workflow: String?
        var status: RunStatus?
        var owner: String?

        func matches(_ run: Run) -> Bool {
            (workflow == nil || run.workflow == workflow) && (status == nil || run.status == status)
                && (owner == nil || run.owner == owner)
        }

        /// The eight filters a run matches.
        static func all(matching run: Run) -> [Filter] {
            [nil, run.owner].flatMap { owner in
                [
                    Filter(owner: owner), Filter(workflow: run.workflow, owner: owner),
                    Filter(status: run.status, owner: owner),
                    Filter(workflow: run.workflow, status: run.status, owner: owner),
                ]
            }
        }
    }

    /// A run of a page, with what the table keeps for writing its JSON.
    struct Row {
        var run: Run
        /// Changes with every change of the run: JSON written from this value is kept with it only
        /// while the run is unchanged.
        var revision: Int
        var json: [UInt8]?
    }

    private struct Slot {
        var run: Run
        /// Creation rank: where the run sits in each filter's list.
        var rank: Int
        var revision: Int
        var json: [UInt8]?
    }

    private struct Entry {
        let rank: Int
        let id: String
    }

    private var byID: [String: Slot] = [:]
    /// Per filter, its runs oldest first (ranks ascending), holes included.
    private var lists: [Filter: [Entry]] = [:]
    /// Runs per filter.
    private var counts: [Filter: Int] = [:]
    private var nextRank = 0
    private var nextRevision = 0
    /// Where the first run still in the table is in the unfiltered list: eviction removes from
    /// the front, and this keeps the next eviction from walking the holes it left.
    private var front = 0
    /// Ended runs by when they ended, for leaving the window by age and (when tracked) for their
    /// outputs' time-to-live. An entry whose run changed or left is dropped when it comes up, or
    /// when such entries outnumber the ended runs.
    private var endings = MinHeap<Date, Entry>()
    private var outputExpiries: MinHeap<Date, Entry>?

    /// `tracksOutputExpiry`: keep ended runs for `takeOutputsExpired` too.
    init(tracksOutputExpiry: Bool = false) {
        if tracksOutputExpiry { outputExpiries = MinHeap() }
    }

    var count: Int { byID.count }

    subscript(id: String) -> Run? {
        get { byID[id]?.run }
        set {
            guard let newValue else { remove(id); return }
            insert(newValue)
        }
    }

    /// Adds a run, or replaces the one with its id (keeping its place). New runs go last.
    mutating func insert(_ run: Run) {
        nextRevision += 1
        if let old = byID[run.id] {
            byID[run.id] = Slot(run: run, rank: old.rank, revision: nextRevision, json: nil)
            relist(run.id, rank: old.rank, old: old.run, new: run)
            noteEnding(run, rank: old.rank, was: old.run)
            return
        }
        let rank = nextRank
        nextRank += 1
        byID[run.id] = Slot(run: run, rank: rank, revision: nextRevision, json: nil)
        for filter in Filter.all(matching: run) {
            counts[filter, default: 0] += 1
            lists[filter, default: []].append(Entry(rank: rank, id: run.id))
        }
        noteEnding(run, rank: rank, was: nil)
    }

    mutating func modify(_ id: String, _ change: (inout Run) -> Void) {
        guard var slot = byID[id] else { return }
        let old = slot.run
        change(&slot.run)
        nextRevision += 1
        slot.revision = nextRevision
        slot.json = nil
        let new = slot.run
        byID[id] = slot
        relist(id, rank: slot.rank, old: old, new: new)
        noteEnding(new, rank: slot.rank, was: old)
    }

    mutating func remove(_ id: String) {
        guard let removed = byID.removeValue(forKey: id) else { return }
        for filter in Filter.all(matching: removed.run) { uncount(filter) }
        if let all = lists[Filter()] {
            while front < all.count, !isLive(all[front], in: Filter()) { front += 1 }
        }
    }

    /// Keeps `json` as the JSON of run `id` while the run is as it was at `revision`.
    mutating func keepJSON(_ id: String, revision: Int, _ json: [UInt8]) {
        guard byID[id]?.revision == revision else { return }
        byID[id]?.json = json
    }

    /// Puts the lists back in creation order, once, after runs found in history were added.
    mutating func sortByCreation() {
        let sorted = byID.values.map(\.run).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        lists = [:]
        endings = MinHeap()
        if outputExpiries != nil { outputExpiries = MinHeap() }
        for (rank, run) in sorted.enumerated() {
            byID[run.id]?.rank = rank
            for filter in Filter.all(matching: run) { lists[filter, default: []].append(Entry(rank: rank, id: run.id)) }
            noteEnding(run, rank: rank, was: nil)
        }
        nextRank = sorted.count
        front = 0
    }

    /// How many runs match `filter` (kept as runs come, change and go: no walk).
    func count(matching filter: Filter) -> Int { counts[filter] ?? 0 }

    /// How many runs have ended.
    private var endedCount: Int {
        RunStatus.allCases.filter(\.isTerminal).reduce(0) { $0 + (counts[Filter(status: $1)] ?? 0) }
    }

    /// Runs not ended yet.
    var unfinished: [Run] { byID.values.filter { !$0.run.status.isTerminal }.map(\.run) }

    func first(where matches: (Run) -> Bool) -> Run? { byID.values.first { matches($0.run) }?.run }
    func filter(_ matches: (Run) -> Bool) -> [Run] { byID.values.filter { matches($0.run) }.map(\.run) }

    /// Newest first: `limit` runs matching `filter` after skipping `offset`, and how many match
    /// in all. Walks back from the newest in the filter's own list, only as far as the page reaches.
    func page(offset: Int, limit: Int, matching filter: Filter) -> (page: [Row], total: Int) {
        let total = counts[filter] ?? 0
        guard offset < total, limit > 0, let list = lists[filter] else { return ([], total) }
        var page: [Row] = []
        page.reserveCapacity(min(limit, total - offset))
        var skipped = 0
        for entry in list.reversed() {
            guard let slot = byID[entry.id], slot.rank == entry.rank, filter.matches(slot.run) else { continue }
            if skipped < offset {
                skipped += 1
                continue
            }
            page.append(Row(run: slot.run, revision: slot.revision, json: slot.json))
            if page.count == limit { break }
        }
        return (page, total)
    }

    /// The oldest ended runs beyond `maxRuns` ended runs (runs not ended never leave): cheap when
    /// the table is not over (the common case).
    func overCount(maxRuns: Int) -> [String] {
        var excess = endedCount - maxRuns
        guard excess > 0, let all = lists[Filter()] else { return [] }
        var out: [String] = []
        for entry in all[front...] where excess > 0 {
            guard isLive(entry, in: Filter()), let run = byID[entry.id]?.run, run.status.isTerminal else { continue }
            out.append(entry.id)
            excess -= 1
        }
        return out
    }

    /// The ended runs that ended before `cutoff`, taken off the endings (each is returned once per
    /// ending; the caller removes them). Costs what it returns, not a walk of the table.
    mutating func takeEnded(before cutoff: Date) -> [String] {
        Self.take(from: &endings, while: { $0 < cutoff }, in: byID).map(\.id)
    }

    /// The ended runs that ended at or before `cutoff`, each returned once per ending (for their
    /// outputs' time-to-live); none unless the table tracks them.
    mutating func takeOutputsExpired(atOrBefore cutoff: Date) -> [Run] {
        guard var heap = outputExpiries else { return [] }
        outputExpiries = nil
        defer { outputExpiries = heap }
        return Self.take(from: &heap, while: { $0 <= cutoff }, in: byID)
    }

    private static func take(
        from heap: inout MinHeap<Date, Entry>, while due: (Date) -> Bool, in byID: [String: Slot]
    ) -> [Run] {
        var taken: [Run] = []
        var seen = Set<String>()
        while let (ended, entry) = heap.first, due(ended) {
            heap.removeFirst()
            // Still this run, still ended then (not reopened, not gone), and not twice (a run
            // reopened and ended again at the same time has two entries).
            guard let slot = byID[entry.id], slot.rank == entry.rank, slot.run.status.isTerminal,
                slot.run.completedAt == ended, seen.insert(entry.id).inserted
            else { continue }
            taken.append(slot.run)
        }
        return taken
    }

    /// A run that just ended (or ended again at another time) joins the endings.
    private mutating func noteEnding(_ run: Run, rank: Int, was old: Run?) {
        guard run.status.isTerminal, let ended = run.completedAt,
            old?.status.isTerminal != true || old?.completedAt != ended
        else { return }
        endings.insert(ended, Entry(rank: rank, id: run.id))
        outputExpiries?.insert(ended, Entry(rank: rank, id: run.id))
        // Entries of runs that left by count (or changed) are dropped once they outnumber the ended runs.
        let endedRuns = endedCount
        if endings.count > 2 * endedRuns + 64 { endings.keep { [byID] in Self.isEnding($0, in: byID) } }
        if let size = outputExpiries?.count, size > 2 * endedRuns + 64 {
            outputExpiries?.keep { [byID] in Self.isEnding($0, in: byID) }
        }
    }

    private static func isEnding(_ ending: (key: Date, value: Entry), in byID: [String: Slot]) -> Bool {
        guard let slot = byID[ending.value.id] else { return false }
        return slot.rank == ending.value.rank && slot.run.status.isTerminal && slot.run.completedAt == ending.key
    }

    // MARK: lists

    private func isLive(_ entry: Entry, in filter: Filter) -> Bool {
        guard let slot = byID[entry.id] else { return false }
        return slot.rank == entry.rank && filter.matches(slot.run)
    }

    /// A run's workflow or status changed: it joins the lists of the filters it matches now
    /// (at its rank) and leaves a hole in those it no longer matches.
    private mutating func relist(_ id: String, rank: Int, old: Run, new: Run) {
        guard old.workflow != new.workflow || old.status != new.status else { return }
        let before = Filter.all(matching: old), after = Filter.all(matching: new)
        for filter in before where !after.contains(filter) { uncount(filter) }
        for filter in after where !before.contains(filter) {
            counts[filter, default: 0] += 1
            var list = lists.removeValue(forKey: filter) ?? []
            // The first entry at or after `rank`: the run's own hole when it matched this before.
            var low = 0, high = list.count
            while low < high {
                let middle = (low + high) / 2
                if list[middle].rank < rank { low = middle + 1 } else { high = middle }
            }
            if low == list.count || list[low].rank != rank { list.insert(Entry(rank: rank, id: id), at: low) }
            lists[filter] = list
        }
    }

    /// One run fewer matches `filter`; its list is compacted once holes outnumber runs.
    private mutating func uncount(_ filter: Filter) {
        let left = (counts[filter] ?? 1) - 1
        counts[filter] = left == 0 ? nil : left
        guard let size = lists[filter]?.count, size > 2 * left + 16 else { return }
        guard left > 0, var list = lists.removeValue(forKey: filter) else {
            lists[filter] = nil
            if filter == Filter() { front = 0 }
            return
        }
        list.removeAll { !isLive($0, in: filter) }
        lists[filter] = list
        if filter == Filter() { front = 0 }
    }
}
