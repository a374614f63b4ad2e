import JSONValue

/// A run's values by the node field each is written to, in node then ordinal order: the
/// request's inputs, then what the run adds where no input gave a value; with repeated ids, each
/// also for every node with the id that has the field.
struct RunValues {
    struct Entry {
        let field: NodeField
        let value: JSONValue
    }

    private var entries: [Entry] = []

    init(_ resolved: ResolvedInputs, in workflow: Workflow) {
        guard !resolved.values.isEmpty || !resolved.fieldValues.isEmpty else { return }
        for (index, value) in resolved.values {
            entries.append(Entry(field: workflow.inputs[index].field, value: value))
        }
        for (field, value) in resolved.fieldValues {
            if let input = workflow.fieldUses[field].input, resolved.values[input] != nil { continue } // the input wins
            entries.append(Entry(field: field, value: value))
        }
        if !workflow.repeatedIDs.isEmpty {
            for entry in entries {
                for field in workflow.repeatedIDs.sharing(entry.field, in: workflow.nodes) {
                    entries.append(Entry(field: field, value: entry.value))
                }
            }
        }
        entries.sort { $0.field < $1.field }
    }

    /// The values for `node`'s fields.
    func values(of node: NodeIndex) -> ArraySlice<Entry> {
        guard !entries.isEmpty else { return [] }
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].field.node < node { low = middle + 1 } else { high = middle }
        }
        var end = low
        while end < entries.count && entries[end].field.node == node { end += 1 }
        return entries[low..<end]
    }

    func value(of field: NodeField) -> JSONValue? {
        values(of: field.node).first { $0.field.ordinal == field.ordinal }?.value
    }
}
