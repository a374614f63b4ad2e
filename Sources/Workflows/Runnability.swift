import JSONValue

/// Whether a workflow can run on this InvokeAI, and every reason it cannot: what describing a
/// workflow says, and what refuses a run before anything is enqueued.
public struct Runnability: Sendable, Equatable {
    /// Every blocking cause: the workflow's static ones, then unresolved models.
    public let issues: [RunnabilityIssue]
    /// One per stored model reference not overridden by a request input.
    public let resolutions: [ModelResolution]
    /// The installed models were known; without them stored models could not be checked.
    public let modelsChecked: Bool
    /// To merge into `ResolvedInputs` (see `ModelResolutionResult`).
    let standIns: [ModelStandIn]

    public init(issues: [RunnabilityIssue], resolutions: [ModelResolution], modelsChecked: Bool) {
        self.init(issues: issues, resolutions: resolutions, modelsChecked: modelsChecked, standIns: [])
    }

    init(issues: [RunnabilityIssue], resolutions: [ModelResolution], modelsChecked: Bool, standIns: [ModelStandIn]) {
        self.issues = issues
        self.resolutions = resolutions
        self.modelsChecked = modelsChecked
        self.standIns = standIns
    }

    /// The stand-ins' identifiers by system name.
    public var values: [String: JSONValue] { ModelStandIn.bySystemName(standIns) }

    /// false when any cause is known; nil when only the unchecked models could stop it (InvokeAI
    /// unreachable); true otherwise.
    public var runnable: Bool? {
        if !issues.isEmpty { return false }
        if !modelsChecked && !resolutions.isEmpty { return nil }
        return true
    }
}
