import JSONValue

extension Workflow {
    /// The stored model identifiers the graph would send, in node order: each must name an
    /// installed model (a key InvokeAI does not have fails the run, not the enqueue).
    public var modelReferences: [ModelReference] { storedModels.map(reference(to:)) }

    private func reference(to stored: StoredModel) -> ModelReference {
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

    /// Whether the workflow can run: its static issues, and its stored models resolved against
    /// `models` (nil: not known, InvokeAI unreachable; the references are then listed unresolved
    /// and `runnable` is nil unless a static issue already says no).
    public func runnability(
        installed models: [InstalledModel]?, allowAny: Bool, given: ResolvedInputs = ResolvedInputs()
    )
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

/// An installed model standing in for a stored one: written in its place unless the request
/// gives a value.
struct ModelStandIn: Sendable, Equatable {
    /// The field it is kept under (`RepeatedIDs.canonical`), and that field's input, if any.
    let field: NodeField
    let input: Int?
    let systemName: String
    let identifier: JSONValue
}
