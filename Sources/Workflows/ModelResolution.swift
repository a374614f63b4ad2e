import JSONValue

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
