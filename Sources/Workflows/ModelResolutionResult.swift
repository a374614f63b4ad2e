import JSONValue

/// Every stored model reference of a workflow resolved against the installed models: what each
/// became, what could not be resolved, and the identifiers to write in place of the stored ones.
public struct ModelResolutionResult: Sendable, Equatable {
    public let resolutions: [ModelResolution]
    public let issues: [RunnabilityIssue]
    /// The references another model stands in for: merged into `ResolvedInputs`, the graph writer
    /// sends them instead of the stored ones.
    let standIns: [ModelStandIn]

    init(resolutions: [ModelResolution], issues: [RunnabilityIssue], standIns: [ModelStandIn]) {
        self.resolutions = resolutions
        self.issues = issues
        self.standIns = standIns
    }

    /// The stand-ins' identifiers by system name.
    public var values: [String: JSONValue] { ModelStandIn.bySystemName(standIns) }
}

extension ModelStandIn {
    static func bySystemName(_ standIns: [ModelStandIn]) -> [String: JSONValue] {
        Dictionary(standIns.map { ($0.systemName, $0.identifier) }, uniquingKeysWith: { _, last in last })
    }
}
