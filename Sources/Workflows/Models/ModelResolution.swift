import JSONValue

/// A model field of a graph node whose stored identifier the graph would send (no graph edge
/// feeds it), whether or not the form shows it: the model it names must be installed, or the
/// run fails at run time ("Unknown model").
public struct ModelReference: Sendable, Equatable {
    public let nodeID: String
    public let field: String
    /// `<node>.<field>`: a request input of that name overrides the stored value.
    public let systemName: String
    /// The stored identifier, `{key, hash, name, base, type}` as the GUI saved it.
    public let stored: JSONValue
    /// The field's model filters (`ui_model_base`, `ui_model_type`), empty when any fits.
    public let bases: [String]
    public let types: [String]

    public init(nodeID: String, field: String, stored: JSONValue, bases: [String] = [], types: [String] = []) {
        self.nodeID = nodeID
        self.field = field
        systemName = "\(nodeID).\(field)"
        self.stored = stored
        self.bases = bases
        self.types = types
    }
}

/// What became of one stored model reference against the installed models: kept, replaced by
/// an installed model, or left unresolved (then a `RunnabilityIssue` says why). Kept with the
/// run, so its record says which model actually ran.
public struct ModelResolution: Sendable, Equatable {
    public enum Method: String, Sendable, Equatable {
        /// The stored key is installed: the identifier is kept as stored.
        case key
        /// The only installed model of the stored name, base and type.
        case name
        /// Any installed model of the stored base and type (only when allowed).
        case any
    }

    public let reference: ModelReference
    /// The installed model the run uses; nil when none was found, or the models are not known.
    public let resolved: InstalledModel?
    public let method: Method?
    /// `used 'x' (k2) in place of 'x' (k1)` when another model stands in for the stored one.
    public let message: String?

    public init(reference: ModelReference, resolved: InstalledModel?, method: Method?, message: String? = nil) {
        self.reference = reference
        self.resolved = resolved
        self.method = method
        self.message = message
    }

    /// Another model than the stored key stands in.
    public var isSubstitution: Bool { method == .name || method == .any }
}

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
