import JSONValue

extension Workflow {
    /// The stored model identifiers the graph would send, in node order: each must name an
    /// installed model (a key InvokeAI does not have fails the run, not the enqueue).
    public var modelReferences: [ModelReference] { storedModels.map(reference(to:)) }

    private func reference(to stored: StoredModel) -> ModelReference {
        let node = nodes[stored.node], field = node.template!.orderedInputs[stored.ordinal]
        return ModelReference(
            nodeID: node.id, field: field.name, stored: document.value(at: stored.value),
            bases: field.modelBases, types: field.modelTypes)
    }

    /// Resolves every stored model reference that the request does not override (`given`: the
    /// system names it gave) against the installed models: by key, kept as stored; else by name,
    /// base and type; else, with `allowAnyOfBaseAndType`, the first model of that base and type
    /// by name then key; else an issue listing the models it could have been.
    public func resolveModels(installed: [InstalledModel], allowAnyOfBaseAndType: Bool, given: Set<String> = [])
        -> ModelResolutionResult
    {
        var resolutions: [ModelResolution] = [], issues: [RunnabilityIssue] = [], values: [String: JSONValue] = [:]
        for stored in storedModels {
            let reference = reference(to: stored), nodeType = nodes[stored.node].type
            guard !given.contains(reference.systemName) else { continue }
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
                values[reference.systemName] = model.identifier
            case .none(let reason, let candidates):
                resolutions.append(ModelResolution(reference: reference, resolved: nil, method: nil))
                issues.append(
                    RunnabilityIssue(
                        kind: .unresolvedModel, nodeID: reference.nodeID, nodeType: nodeType, field: reference.field,
                        message: "node \(reference.nodeID) (\(nodeType)) field '\(reference.field)': \(reason)",
                        candidates: Array(candidates.prefix(RunnabilityIssue.candidateLimit))))
            }
        }
        return ModelResolutionResult(resolutions: resolutions, issues: issues, values: values)
    }

    /// Whether the workflow can run: its static issues, and its stored models resolved against
    /// `models` (nil: not known, InvokeAI unreachable; the references are then listed unresolved
    /// and `runnable` is nil unless a static issue already says no).
    public func runnability(installed models: [InstalledModel]?, allowAny: Bool, given: Set<String> = []) -> Runnability
    {
        guard let models else {
            let unchecked = modelReferences.filter { !given.contains($0.systemName) }.map {
                ModelResolution(reference: $0, resolved: nil, method: nil)
            }
            return Runnability(issues: staticIssues, resolutions: unchecked, values: [:], modelsChecked: false)
        }
        let result = resolveModels(installed: models, allowAnyOfBaseAndType: allowAny, given: given)
        return Runnability(
            issues: staticIssues + result.issues, resolutions: result.resolutions, values: result.values,
            modelsChecked: true)
    }
}
