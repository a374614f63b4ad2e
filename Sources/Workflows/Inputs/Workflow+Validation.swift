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

extension Workflow {
    /// The input a key names: its index (`"0"`), its system name (`<nodeId>.<field>`), or its
    /// label when no other input has the same one.
    public func input(_ key: String) throws(InputLookupError) -> WorkflowInput {
        if let index = Int(key), key == String(index) {
            guard inputs.indices.contains(index) else {
                throw InputLookupError(
                    message: "no input \(index): this workflow has \(inputs.count) (0...\(max(0, inputs.count - 1)))",
                    candidates: [])
            }
            return inputs[index]
        }
        if let input = inputs.first(where: { $0.systemName == key }) { return input }
        let labelled = inputs.filter { $0.label == key }
        if labelled.count == 1 { return labelled[0] }
        if labelled.count > 1 {
            throw InputLookupError(
                message:
                    "label '\(key)' is ambiguous: use an index or system name (\(labelled.map { "\($0.index) = \($0.systemName)" }.joined(separator: ", ")))",
                candidates: labelled.map(\.systemName))
        }
        throw InputLookupError(
            message:
                "no input '\(key)': use an index (0...\(max(0, inputs.count - 1))), a system name (<nodeId>.<field>) or a unique label",
            candidates: [])
    }

    /// Labels that name exactly one input.
    var uniqueLabels: [String: WorkflowInput] {
        let grouped = Dictionary(grouping: inputs, by: \.label)
        return grouped.compactMapValues { $0.count == 1 ? $0[0] : nil }
    }
}

/// One bad input of a run request.
public struct InputError: Sendable, Equatable {
    /// The key the caller used (index, system name or label).
    public let key: String
    public let index: Int?
    public let systemName: String?
    public let message: String

    public init(key: String, index: Int?, systemName: String?, message: String) {
        self.key = key
        self.index = index
        self.systemName = systemName
        self.message = message
    }
}

/// Every bad input of a run request, collected at once.
public struct InputErrors: Error, Sendable {
    public let errors: [InputError]
    public init(_ errors: [InputError]) { self.errors = errors }
}

/// A key that names no input, or a label that names several.
public struct InputLookupError: Error, Sendable, Equatable {
    public let message: String
    public let candidates: [String]
}
