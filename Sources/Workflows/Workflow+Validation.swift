import JSONValue

extension Workflow {
    /// Checks and converts a run request's inputs, collecting every error at once. `board`, when
    /// given, is where every output node saves its images, unless an input sets that node's board.
    public func validate(_ values: [String: JSONValue], models: [InstalledModel], board: JSONValue? = nil) -> Result<
        ResolvedInputs, InputErrors
    > {
        var errors: [InputError] = []
        var resolved = ResolvedInputs()
        // The key each input was given by.
        var givenBy: [Int: String] = [:]
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            let input: WorkflowInput
            do {
                input = try self.input(key)
            } catch {
                errors.append(InputError(key: key, index: nil, systemName: nil, message: error.message))
                continue
            }
            if let other = givenBy[input.index] {
                errors.append(
                    InputError(
                        key: key, index: input.index, systemName: input.systemName,
                        message: "input \(input.index) is given twice (as '\(other)' and '\(key)')"))
                continue
            }
            givenBy[input.index] = key
            guard let field = input.template else { continue }
            switch InputCoercion.coerce(value, field.kind, field, models: models) {
            case .value(let converted): resolved.values[input.index] = converted
            case .inlineImage(let image): resolved.inlineImages[input.index] = image
            case .invalid(let message):
                errors.append(InputError(key: key, index: input.index, systemName: input.systemName, message: message))
            }
        }
        if let board {
            switch InputCoercion.coerce(board, .board, nil, models: []) {
            case .value(let converted):
                for output in outputs {
                    guard let field = output.boardField else { continue }
                    if let input = fieldUses[field].input, givenBy[input] != nil { continue }
                    resolved.fieldValues[field] = converted
                }
            case .inlineImage, .invalid:
                errors.append(
                    InputError(
                        key: "board", index: nil, systemName: nil,
                        message:
                            "the run's board must be \"none\", \"auto\", a board id or {\"board_id\": ...}, got \(board.compactJSON)"
                    ))
            }
        }
        for input in inputs where input.required && givenBy[input.index] == nil {
            errors.append(
                InputError(
                    key: String(input.index), index: input.index, systemName: input.systemName,
                    message: "required: '\(input.label)' has no value in the workflow"))
        }
        return errors.isEmpty
            ? .success(resolved)
            : .failure(InputErrors(errors.sorted { ($0.index ?? Int.max, $0.key) < ($1.index ?? Int.max, $1.key) }))
    }
}
