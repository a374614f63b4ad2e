import JSONValue

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
