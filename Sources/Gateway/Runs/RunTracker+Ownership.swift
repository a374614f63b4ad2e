extension RunTracker {
    /// How many of `owner`'s runs have not ended (for a key's concurrent-runs limit).
    public func unfinishedCount(owner: String) -> Int {
        state.withLock { s in
            RunStatus.allCases.filter { !$0.isTerminal }.reduce(0) {
                $0 + s.table.count(matching: RunTable.Filter(status: $1, owner: owner))
            }
        }
    }

    /// Whether `image` belongs to one of `owner`'s runs (any run's, when nil) in the table: an input the gateway
    /// uploaded for it, or an output (for deleting, only one the run's own session made, never
    /// an image another run made or one passed through). Older runs, gone from the table, are
    /// not searched. The lock is held only to take the tenant's runs.
    public func hasImage(_ image: String, owner: String?, deleting: Bool) -> Bool {
        let runs = state.withLock { s in
            s.table.page(offset: 0, limit: Int.max, matching: RunTable.Filter(owner: owner)).page
        }
        return runs.contains { row in
            row.run.uploadedImages.contains(image)
                || (deleting ? row.run.ownedOutputImageNames : row.run.outputImageNames).contains(image)
        }
    }
}
