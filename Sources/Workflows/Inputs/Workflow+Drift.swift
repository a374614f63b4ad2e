extension Workflow {
    /// How `new`'s inputs differ from `old`'s, by system name.
    public static func drift(from old: Workflow, to new: Workflow) -> DriftReport {
        let oldIndex = Dictionary(old.inputs.map { ($0.systemName, $0.index) }, uniquingKeysWith: { first, _ in first })
        let newIndex = Dictionary(new.inputs.map { ($0.systemName, $0.index) }, uniquingKeysWith: { first, _ in first })
        var unchanged: [String] = [], moved: [DriftReport.Move] = []
        for input in old.inputs {
            guard let now = newIndex[input.systemName] else { continue }
            if now == input.index {
                unchanged.append(input.systemName)
            } else {
                moved.append(.init(systemName: input.systemName, from: input.index, to: now))
            }
        }
        return DriftReport(
            unchanged: unchanged, moved: moved,
            missing: old.inputs.map(\.systemName).filter { newIndex[$0] == nil },
            added: new.inputs.map(\.systemName).filter { oldIndex[$0] == nil })
    }
}

/// How a workflow's inputs changed between two versions, by system name.
public struct DriftReport: Sendable, Equatable {
    public struct Move: Sendable, Equatable { public let systemName: String; public let from: Int; public let to: Int }
    public let unchanged: [String]
    public let moved: [Move]
    public let missing: [String]
    public let added: [String]

    /// Callers addressing inputs by index are safe: nothing moved or disappeared.
    public var isCompatible: Bool { moved.isEmpty && missing.isEmpty }
}
