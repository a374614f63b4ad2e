import JSONValue

/// Every stored model reference of a workflow resolved against the installed models: what each
/// became, what could not be resolved, and the identifiers to write in place of the stored ones.
public struct ModelResolutionResult: Sendable, Equatable {
    public let resolutions: [ModelResolution]
    public let issues: [RunnabilityIssue]
    /// Resolved identifiers by system name, for the references another model stands in for:
    /// merged into `ResolvedInputs.values`, the graph writer sends them instead of the stored ones.
    public let values: [String: JSONValue]

    public init(resolutions: [ModelResolution], issues: [RunnabilityIssue], values: [String: JSONValue]) {
        self.resolutions = resolutions
        self.issues = issues
        self.values = values
    }
}
