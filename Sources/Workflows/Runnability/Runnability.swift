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

/// One reason a workflow cannot run on this InvokeAI as it stands. Unlike a warning, each one
/// refuses a run before anything is enqueued: InvokeAI would refuse the graph, fail it at run
/// time, or run a graph that does something other than the workflow.
public struct RunnabilityIssue: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// An invocation this InvokeAI's schema does not know: the node could only be left out.
        case unknownNodeType = "unknown_node_type"
        /// A generator whose values a batch or graph node needs: the gateway does not evaluate
        /// generators, so the run would use other values.
        case unsupportedGenerator = "unsupported_generator"
        /// A required field with no stored value, no edge, and not in the form.
        case missingRequiredValue = "missing_required_value"
        /// A stored model that is not installed and found no stand-in.
        case unresolvedModel = "unresolved_model"
    }

    public let kind: Kind
    public let nodeID: String
    /// The node's type, for an unknown type or a generator.
    public let nodeType: String?
    public let field: String?
    public let message: String
    /// For an unresolved model: installed models of its base and type, by name then key (at
    /// most `RunnabilityIssue.candidateLimit`; the message gives the full count).
    public let candidates: [InstalledModel]

    /// How many candidates an issue lists.
    public static let candidateLimit = 20

    public init(
        kind: Kind, nodeID: String, nodeType: String? = nil, field: String? = nil, message: String,
        candidates: [InstalledModel] = []
    ) {
        self.kind = kind
        self.nodeID = nodeID
        self.nodeType = nodeType
        self.field = field
        self.message = message
        self.candidates = candidates
    }

    /// `<node>.<field>`, when the issue is about a field.
    public var systemName: String? { field.map { "\(nodeID).\($0)" } }
}

extension Workflow {
    /// Whether the workflow can run: its static issues, and its stored models resolved against
    /// `models` (nil: not known, InvokeAI unreachable; the references are then listed unresolved
    /// and `runnable` is nil unless a static issue already says no).
    public func runnability(installed models: [InstalledModel]?, allowAny: Bool, given: ResolvedInputs = .init())
        -> Runnability
    {
        guard let models else {
            let unchecked = storedModels.filter { !hasValue(given, for: $0.canonical) }.map {
                ModelResolution(reference: reference(to: $0), resolved: nil, method: nil)
            }
            return Runnability(issues: staticIssues, resolutions: unchecked, modelsChecked: false)
        }
        let result = resolveModels(installed: models, allowAnyOfBaseAndType: allowAny, given: given)
        return Runnability(
            issues: staticIssues + result.issues, resolutions: result.resolutions, modelsChecked: true,
            standIns: result.standIns)
    }
}
