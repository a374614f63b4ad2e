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
