import Foundation

/// The runs the tracker holds, by id and in creation order, so pages come out newest first
/// without sorting the table per request. Removal leaves a hole in the order, compacted when
/// holes outnumber runs.
struct RunTable {
    private var byID: [String: Run] = [:]
    /// Ids in creation order (oldest first); ids no longer in `byID` are holes.
    private var order: [String] = []
    private var holes = 0
    /// Where the first id still in the table is: eviction removes from the front, and this keeps
    /// the next eviction from walking the holes it left.
    private var front = 0

    var count: Int { byID.count }

    subscript(id: String) -> Run? {
        get { byID[id] }
        set {
            guard let newValue else { remove(id); return }
            if byID[id] == nil { insert(newValue) } else { byID[id] = newValue }
        }
    }

    /// Adds a run, or replaces the one with its id (keeping its place). New runs go last.
    mutating func insert(_ run: Run) {
        guard byID.updateValue(run, forKey: run.id) == nil else { return }
        order.append(run.id)
    }

    /// Puts the order back by creation time, once, after runs found in history were added.
    mutating func sortByCreation() {
        order = byID.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }.map(\.id)
        holes = 0
        front = 0
    }

    mutating func modify(_ id: String, _ change: (inout Run) -> Void) {
        guard var run = byID[id] else { return }
        change(&run)
        byID[id] = run
    }

    mutating func remove(_ id: String) {
        guard byID.removeValue(forKey: id) != nil else { return }
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

    /// Newest first: `limit` matching runs after skipping `offset`, and how many match in all.
    func page(offset: Int, limit: Int, matching matches: (Run) -> Bool) -> (page: [Run], total: Int) {
        var page: [Run] = []
        var total = 0
        for id in order.reversed() {
            guard let run = byID[id], matches(run) else { continue }
            if total >= offset && page.count < limit { page.append(run) }
            total += 1
        }
        return (page, total)
    }

    /// The oldest ended runs beyond `maxRuns`: cheap when the table is not over (the common case).
    func overCount(maxRuns: Int) -> [String] {
        var excess = byID.count - maxRuns
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
