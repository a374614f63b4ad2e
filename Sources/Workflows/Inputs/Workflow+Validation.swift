import JSONValue

extension Workflow {
    /// Checks and converts a run request's inputs, collecting every error at once. `board`, when
    /// given, is where every output node saves its images, unless an input sets that node's board.
    /// At most `maxErrors` errors are kept (the first in the order reported); the rest are only
    /// counted (`InputErrors.omitted`), and keys that name no input cost no more than a lookup:
    /// a request with a million of them is answered as fast as one with a hundred.
    public func validate(
        _ values: [String: JSONValue], models: [InstalledModel], board: JSONValue? = nil, maxErrors: Int = .max
    ) -> Result<ResolvedInputs, InputErrors> {
        var errors: [InputError] = []
        var resolved = ResolvedInputs()
        // The key each input was given by.
        var givenBy: [Int: String] = [:]
        // Keys that name an input (at most a few per input) are checked in full; of those that
        // name none, only the first `maxErrors` in key order are described.
        let names = InputNames(self)
        var named: [(key: String, value: JSONValue)] = []
        var unknown = SmallestKeys(limit: maxErrors)
        for (key, value) in values {
            if names.mayName(key) { named.append((key, value)) } else { unknown.insert(key) }
        }
        for key in unknown.keys {
            let message: String
            do {
                _ = try input(key)
                message = "no input '\(key)'"
            } catch {
                message = error.message
            }
            errors.append(InputError(key: key, index: nil, systemName: nil, message: message))
        }
        for (key, value) in named.sorted(by: { $0.key < $1.key }) {
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
        guard !errors.isEmpty || unknown.total > 0 else { return .success(resolved) }
        errors.sort { ($0.index ?? Int.max, $0.key) < ($1.index ?? Int.max, $1.key) }
        var omitted = unknown.total - unknown.keys.count
        if errors.count > maxErrors {
            omitted += errors.count - maxErrors
            errors.removeLast(errors.count - maxErrors)
        }
        return .failure(InputErrors(errors, omitted: omitted))
    }
}

/// Which keys may name an input of a workflow (an index in range, a system name, a label),
/// answered without building a message: the cheap first look at every key of a request.
private struct InputNames {
    let count: Int
    let systemNames: Set<String>
    let labels: Set<String>

    init(_ workflow: Workflow) {
        count = workflow.inputs.count
        systemNames = Set(workflow.inputs.map(\.systemName))
        labels = Set(workflow.inputs.map(\.label))
    }

    func mayName(_ key: String) -> Bool {
        if let index = Int(key), key == String(index) { return (0..<count).contains(index) }
        return systemNames.contains(key) || labels.contains(key)
    }
}

/// The `limit` smallest keys seen, in order, and how many were seen in all.
private struct SmallestKeys {
    let limit: Int
    private(set) var keys: [String] = []
    private(set) var total = 0

    init(limit: Int) { self.limit = max(0, limit) }

    mutating func insert(_ key: String) {
        total += 1
        if keys.count == limit {
            guard let last = keys.last, key < last else { return }
            keys.removeLast()
        }
        var low = 0, high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if keys[mid] < key { low = mid + 1 } else { high = mid }
        }
        keys.insert(key, at: low)
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

/// Every bad input of a run request, collected at once (up to a bound: `omitted` more).
public struct InputErrors: Error, Sendable {
    public let errors: [InputError]
    /// Errors found beyond the bound and not described.
    public let omitted: Int
    public init(_ errors: [InputError], omitted: Int = 0) {
        self.errors = errors
        self.omitted = omitted
    }
}

/// A key that names no input, or a label that names several.
public struct InputLookupError: Error, Sendable, Equatable {
    public let message: String
    public let candidates: [String]
}
