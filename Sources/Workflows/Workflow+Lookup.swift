extension Workflow {
    /// The input a key names: its index (`"0"`), its system name (`<nodeId>.<field>`), or its
    /// label when no other input has the same one.
    public func input(_ key: String) throws(InputLookupError) -> WorkflowInput {
        if let index = Int(key), key == String(index) {
            guard inputs.indices.contains(index) else {
                throw InputLookupError(
                    message: "no input \(index): this workflow has \(inputs.count) (0...\(max(0, inputs.count - 1)))",
                    candidates: [])
            }
            return inputs[index]
        }
        if let input = inputs.first(where: { $0.systemName == key }) { return input }
        let labelled = inputs.filter { $0.label == key }
        if labelled.count == 1 { return labelled[0] }
        if labelled.count > 1 {
            throw InputLookupError(
                message:
                    "label '\(key)' is ambiguous: use an index or system name (\(labelled.map { "\($0.index) = \($0.systemName)" }.joined(separator: ", ")))",
                candidates: labelled.map(\.systemName))
        }
        throw InputLookupError(
            message:
                "no input '\(key)': use an index (0...\(max(0, inputs.count - 1))), a system name (<nodeId>.<field>) or a unique label",
            candidates: [])
    }

    /// Labels that name exactly one input.
    var uniqueLabels: [String: WorkflowInput] {
        let grouped = Dictionary(grouping: inputs, by: \.label)
        return grouped.compactMapValues { $0.count == 1 ? $0[0] : nil }
    }
}
