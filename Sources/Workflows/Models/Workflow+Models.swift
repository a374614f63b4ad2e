import JSONValue

extension Workflow {
    /// The stored model identifiers the graph would send, in node order: each must name an
    /// installed model (a key InvokeAI does not have fails the run, not the enqueue).
    public var modelReferences: [ModelReference] { storedModels.map(reference(to:)) }

    func reference(to stored: StoredModel) -> ModelReference {
        ModelReference(
            nodeID: nodes[stored.field.node].id, field: stored.template.name, stored: document.value(at: stored.value),
            bases: stored.template.modelBases, types: stored.template.modelTypes)
    }

    /// Resolves every stored model reference that the request does not override (`given`: its
    /// values) against the installed models: by key, kept as stored; else by name, base and type;
    /// else, with `allowAnyOfBaseAndType`, the first model of that base and type by name then
    /// key; else an issue listing the models it could have been.
    public func resolveModels(
        installed: [InstalledModel], allowAnyOfBaseAndType: Bool, given: ResolvedInputs = ResolvedInputs()
    ) -> ModelResolutionResult {
        var resolutions: [ModelResolution] = [], issues: [RunnabilityIssue] = []
        var standIns: [ModelStandIn] = []
        for stored in storedModels where !hasValue(given, for: stored.canonical) {
            let reference = reference(to: stored), nodeType = nodes[stored.field.node].type
            switch InstalledModel.match(
                reference.stored, in: installed, bases: reference.bases, types: reference.types,
                allowAny: allowAnyOfBaseAndType)
            {
            case .found(let model, .key):
                resolutions.append(ModelResolution(reference: reference, resolved: model, method: .key))
            case .found(let model, let method):
                let was =
                    reference.stored["name"]?.stringValue.map { name in
                        "'\(name)' (\(reference.stored["key"]?.stringValue ?? "no key"))"
                    }
                    ?? reference.stored.compactJSON
                resolutions.append(
                    ModelResolution(
                        reference: reference, resolved: model, method: method,
                        message: "used \(model.shortDescription) in place of \(was)"))
                // A later node with the same id and field wins, as a later value for one name would.
                standIns.removeAll { $0.field == stored.canonical }
                standIns.append(
                    ModelStandIn(
                        field: stored.canonical, input: fieldUses[stored.canonical].input,
                        systemName: reference.systemName, identifier: model.identifier))
            case .none(let reason, let candidates):
                resolutions.append(ModelResolution(reference: reference, resolved: nil, method: nil))
                issues.append(
                    RunnabilityIssue(
                        kind: .unresolvedModel, nodeID: reference.nodeID, nodeType: nodeType, field: reference.field,
                        message: "node \(reference.nodeID) (\(nodeType)) field '\(reference.field)': \(reason)",
                        candidates: Array(candidates.prefix(RunnabilityIssue.candidateLimit))))
            }
        }
        return ModelResolutionResult(resolutions: resolutions, issues: issues, standIns: standIns)
    }
}

/// An installed model standing in for a stored one: written in its place unless the request
/// gives a value.
struct ModelStandIn: Sendable, Equatable {
    /// The field it is kept under (`RepeatedIDs.canonical`), and that field's input, if any.
    let field: NodeField
    let input: Int?
    let systemName: String
    let identifier: JSONValue
}

extension ModelStandIn {
    static func bySystemName(_ standIns: [ModelStandIn]) -> [String: JSONValue] {
        Dictionary(standIns.map { ($0.systemName, $0.identifier) }, uniquingKeysWith: { _, last in last })
    }
}

/// A model field's stored identifier that the graph sends: the field, the field a run's value
/// for it is kept under (`RepeatedIDs`), the tape position of the value, the field's template.
struct StoredModel: Sendable {
    let field: NodeField
    let canonical: NodeField
    let value: Int
    let template: FieldTemplate
}
