/// Which events a subscriber wants. Each list is "any of"; an empty list does not filter.
public struct EventFilter: Sendable, Equatable {
    public var runs: Set<String> = []
    public var workflows: Set<String> = []
    public var types: Set<String> = []
    /// Whether `node.progress` events carry their preview image.
    public var previews = false
    /// Only events of this tenant's runs (and gateway-wide ones); nil: every run's (an admin).
    public var owner: String?

    public init(runs: Set<String> = [], workflows: Set<String> = [], types: Set<String> = [], previews: Bool = false) {
        self.runs = runs
        self.workflows = workflows
        self.types = types
        self.previews = previews
    }

    public func matches(_ event: GatewayEvent) -> Bool {
        if !types.isEmpty, !types.contains(event.type) { return false }
        if let owner, event.runID != nil, event.owner != owner { return false }
        // Gateway-wide events (upstream.*) have no run: they pass run and workflow filters only
        // when those are not set, so a run's stream carries its own events alone.
        if !runs.isEmpty { guard let run = event.runID, runs.contains(run) else { return false } }
        if !workflows.isEmpty {
            guard let workflow = event.workflow, workflows.contains(workflow) else { return false }
        }
        return true
    }
}
