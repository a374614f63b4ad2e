import Foundation
import Testing

@testable import Gateway

/// The run table against a plain reference (every run in creation order, pages by filtering
/// and counting): random insertions, status changes, removals, runs added again and re-sorts,
/// with every filter's pages and totals compared after each step.
@Suite struct RunTableTests {
    /// A small seeded generator (SplitMix64), so a failure repeats.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    struct Reference {
        var order: [String] = []
        var runs: [String: Run] = [:]

        /// Every run matching `filter`, newest first.
        func matching(_ filter: RunTable.Filter) -> [String] { order.reversed().filter { filter.matches(runs[$0]!) } }

        func overCount(maxRuns: Int) -> [String] {
            let ended = order.filter { runs[$0]!.status.isTerminal }
            return Array(ended.prefix(max(0, ended.count - maxRuns)))
        }
    }

    @Test(arguments: [1, 2, 3])
    func pagesAndTotalsMatchAPlainReference(seed: UInt64) async {
        var random = Seeded(state: seed)
        var table = RunTable()
        var reference = Reference()
        var removed: [Run] = []
        let workflows = ["a", "b", "c"]
        var next = 0
        // Runs of the anonymous tenant and of one other; each filter for all owners or one.
        let owners = ["", "team"]
        let filters = ([nil] + owners.map(Optional.some)).flatMap { owner in
            ([nil] + workflows.map(Optional.some)).flatMap { workflow in
                ([nil] + RunStatus.allCases.map(Optional.some)).map {
                    RunTable.Filter(workflow: workflow, status: $0, owner: owner)
                }
            }
        }
        for step in 0..<1000 {
            // Long and synchronous: lets the other tests' tasks have the cooperative threads too.
            await Task.yield()
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<25:
                next += 1
                let run = Run(
                    id: "run-\(next)", workflow: workflows.randomElement(using: &random)!,
                    owner: owners.randomElement(using: &random)!, itemIDs: [next],
                    createdAt: Date(timeIntervalSince1970: Double(Int.random(in: 0..<1000, using: &random))))
                table.insert(run)
                reference.order.append(run.id)
                reference.runs[run.id] = run
            case 25..<70 where !reference.order.isEmpty:
                // Ended runs end at this step (or keep when they ended); reopened ones have not.
                let id = reference.order.randomElement(using: &random)!
                let status = RunStatus.allCases.randomElement(using: &random)!
                let keep = Bool.random(using: &random)
                let ended = status.isTerminal ? Date(timeIntervalSince1970: Double(step)) : nil
                let change = { (run: inout Run) in
                    run.status = status
                    if !keep || ended == nil { run.completedAt = ended }
                }
                table.modify(id, change)
                change(&reference.runs[id]!)
            case 70..<88 where !reference.order.isEmpty:
                let id = reference.order.randomElement(using: &random)!
                table.remove(id)
                removed.append(reference.runs.removeValue(forKey: id)!)
                reference.order.removeAll { $0 == id }
            case 88..<97 where !removed.isEmpty:
                // Read again from InvokeAI (`lookup`): it comes back newest.
                let run = removed.remove(at: Int.random(in: 0..<removed.count, using: &random))
                table.insert(run)
                reference.order.append(run.id)
                reference.runs[run.id] = run
            case 97..<99:
                table.sortByCreation()
                reference.order.sort { (reference.runs[$0]!.createdAt, $0) < (reference.runs[$1]!.createdAt, $1) }
            case 99:
                // Upkeep by age: every ended run that ended before the cutoff, and no other.
                let cutoff = Date(timeIntervalSince1970: Double(step - 100))
                let taken = table.takeEnded(before: cutoff)
                let expected = reference.order.filter { id in
                    let run = reference.runs[id]!
                    return run.status.isTerminal && run.completedAt.map { $0 < cutoff } == true
                }
                #expect(taken.sorted() == expected.sorted(), "step \(step)")
                for id in taken {
                    table.remove(id)
                    removed.append(reference.runs.removeValue(forKey: id)!)
                    reference.order.removeAll { $0 == id }
                }
            default:
                break
            }
            #expect(table.count == reference.order.count)
            // Every filter every 20 steps; in between, no filter and one picked at random.
            let checked = step % 20 == 0 ? filters : [RunTable.Filter(), filters.randomElement(using: &random)!]
            for filter in checked {
                let matching = reference.matching(filter)
                for (offset, limit) in [(0, 5), (3, 2), (0, 500)] {
                    let (page, total) = table.page(offset: offset, limit: limit, matching: filter)
                    let expected = Array(matching.dropFirst(offset).prefix(limit))
                    #expect(page.map(\.run.id) == expected, "step \(step), \(filter), \(offset)+\(limit)")
                    #expect(total == matching.count, "step \(step), \(filter)")
                }
            }
            #expect(table.overCount(maxRuns: 10) == reference.overCount(maxRuns: 10), "step \(step)")
        }
    }

    @Test func aRunsKeptJSONGoesWhenTheRunChanges() {
        var table = RunTable()
        table.insert(Run(id: "r", workflow: "a", itemIDs: [1]))
        let row = table.page(offset: 0, limit: 1, matching: RunTable.Filter()).page[0]
        #expect(row.json == nil)
        table.keepJSON("r", revision: row.revision, [1, 2, 3])
        #expect(table.page(offset: 0, limit: 1, matching: RunTable.Filter()).page[0].json == [1, 2, 3])
        table.modify("r") { $0.status = .running }
        #expect(table.page(offset: 0, limit: 1, matching: RunTable.Filter()).page[0].json == nil)
        // JSON written from the run as it was before the change is not kept.
        table.keepJSON("r", revision: row.revision, [1, 2, 3])
        #expect(table.page(offset: 0, limit: 1, matching: RunTable.Filter()).page[0].json == nil)
    }
}
