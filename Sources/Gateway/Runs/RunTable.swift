import Foundation

/// The runs the tracker holds, by id and in creation order, so pages come out newest first
/// without sorting the table per request, with how many runs there are per workflow and status
/// kept as runs come, change and go (a page's total is a look-up, not a count). Removal leaves
/// a hole in the order, compacted when holes outnumber runs.
struct RunTable {
    /// A page's filter: a workflow, a status, both or neither.
    struct Filter: Hashable {
        var workflow: String?
        var status: RunStatus?

        func matches(_ run: Run) -> Bool {
            (workflow == nil || run.workflow == workflow) && (status == nil || run.status == status)
        }
    }

    private var byID: [String: Run] = [:]
    /// Ids in creation order (oldest first); ids no longer in `byID` are holes.
    private var order: [String] = []
    private var holes = 0
    /// Where the first id still in the table is: eviction removes from the front, and this keeps
    /// the next eviction from walking the holes it left.
    private var front = 0
    /// Runs per filter, for every filter a run matches (four per run).
    private var counts: [Filter: Int] = [:]

    var count: Int { byID.count }

    subscript(id: String) -> Run? {
        get { byID[id] }
        set {
            guard let newValue else { remove(id); return }
            insert(newValue)
        }
    }

    /// Adds a run, or replaces the one with its id (keeping its place). New runs go last.
    mutating func insert(_ run: Run) {
        let old = byID.updateValue(run, forKey: run.id)
        recount(old: old, new: run)
        guard old == nil else { return }
        order.append(run.id)
    }

    private mutating func recount(old: Run?, new: Run?) {
        guard old?.workflow != new?.workflow || old?.status != new?.status else { return }
        for (run, delta) in [(old, -1), (new, 1)] {
            guard let run else { continue }
            for filter in [
                Filter(), Filter(workflow: run.workflow), Filter(status: run.status),
                Filter(workflow: run.workflow, status: run.status),
            ] {
                counts[filter, default: 0] += delta
            }
        }
    }

    /// Puts the order back by creation time, once, after runs found in history were added.
    mutating func sortByCreation() {
        order = byID.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }.map(\.id)
        holes = 0
        front = 0
    }

    mutating func modify(_ id: String, _ change: (inout Run) -> Void) {
        guard var run = byID[id] else { return }
        let old = run
        change(&run)
        byID[id] = run
        recount(old: old, new: run)
    }

    mutating func remove(_ id: String) {
        guard let removed = byID.removeValue(forKey: id) else { return }
        recount(old: removed, new: nil)
        holes += 1
        while front < order.count, byID[order[front]] == nil { front += 1 }
        if holes > byID.count {
            order.removeAll { byID[$0] == nil }
            holes = 0
            front = 0
        }
    }

    /// Runs not ended yet.
    var unfinished: [Run] { byID.values.filter { !$0.status.isTerminal } }

    func first(where matches: (Run) -> Bool) -> Run? { byID.values.first(where: matches) }
    func filter(_ matches: (Run) -> Bool) -> [Run] { byID.values.filter(matches) }

    /// Newest first: `limit` runs matching `filter` after skipping `offset`, and how many match
    /// in all. Walks back from the newest only as far as the page reaches.
    func page(offset: Int, limit: Int, matching filter: Filter) -> (page: [Run], total: Int) {
        let total = counts[filter] ?? 0
        var page: [Run] = []
        var skipped = 0
        guard offset < total, limit > 0 else { return ([], total) }
        for id in order.reversed() {
            guard let run = byID[id], filter.matches(run) else { continue }
            if skipped < offset { skipped += 1; continue }
            page.append(run)
            if page.count == limit { break }
        }
        return (page, total)
    }

    /// The oldest ended runs beyond `maxRuns` ended runs (runs not ended never leave): cheap when
    /// the table is not over (the common case).
    func overCount(maxRuns: Int) -> [String] {
        let ended = RunStatus.allCases.filter(\.isTerminal).reduce(0) { $0 + (counts[Filter(status: $1)] ?? 0) }
        var excess = ended - maxRuns
        guard excess > 0 else { return [] }
        var out: [String] = []
        for id in order[front...] where excess > 0 {
            guard let run = byID[id], run.status.isTerminal else { continue }
            out.append(id)
            excess -= 1
        }
        return out
    }

    /// Ended runs that ended before `cutoff` (a walk of the whole table: for periodic upkeep).
    func ended(before cutoff: Date) -> [String] {
        order[front...].filter { id in
            guard let run = byID[id], run.status.isTerminal, let ended = run.completedAt else { return false }
            return ended < cutoff
        }
    }
}
