/// What a model identifier (stored in a workflow or given by a caller) found among the installed
/// models, or why it found none.
enum ModelMatch: Sendable, Equatable {
    case found(InstalledModel, ModelResolution.Method)
    /// `reason` names the identifier and what was looked for; `candidates` are the installed
    /// models of its base and type, by name then key.
    case none(reason: String, candidates: [InstalledModel])
}
