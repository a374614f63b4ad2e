import JSONValue

/// A run's values, ready for the graph: the request's inputs by input index, and what the run
/// adds to fields no input gave a value (its board on output nodes, installed models standing in
/// for stored ones).
public struct ResolvedInputs: Sendable {
    /// The request's validated values, by input index.
    public internal(set) var values: [Int: JSONValue] = [:]
    /// Image inputs given inline, by input index: the gateway uploads them, then calls `setImage`.
    public internal(set) var inlineImages: [Int: InlineImage] = [:]
    /// What the run adds, by the field it is kept under (`RepeatedIDs.canonical`).
    var fieldValues: [NodeField: JSONValue] = [:]

    public init() {}

    public mutating func setImage(_ imageName: String, forInput index: Int) {
        values[index] = ["image_name": .string(imageName)]
        inlineImages[index] = nil
    }

    /// Installed models standing in for stored ones, where the request gave no value.
    public mutating func merge(_ models: ModelResolutionResult) { merge(models.standIns) }
    public mutating func merge(_ runnability: Runnability) { merge(runnability.standIns) }

    private mutating func merge(_ standIns: [ModelStandIn]) {
        for standIn in standIns where fieldValues[standIn.field] == nil {
            if let input = standIn.input, values[input] != nil { continue }
            fieldValues[standIn.field] = standIn.identifier
        }
    }

    /// Names a board by its id in place of what `board` was found by (its name).
    public mutating func setBoard(_ id: String, for board: BoardReference) {
        switch board.target {
        case .input(let index): values[index] = ["board_id": .string(id)]
        case .field(let field): fieldValues[field] = ["board_id": .string(id)]
        }
    }
}

/// A board a run names by id (`{"board_id": ...}`): a board input's value, or the run's board on
/// an output node. InvokeAI saves images for a board it does not have uncategorized, so the
/// gateway checks each one first.
public struct BoardReference: Sendable {
    enum Target: Sendable {
        case input(Int)
        case field(NodeField)
    }

    /// `<node>.board`.
    public let systemName: String
    /// The input of that field, if the form shows it.
    public let inputIndex: Int?
    public let id: String
    let target: Target
}

extension Workflow {
    /// The boards `resolved` names by id, by system name.
    public func boardReferences(in resolved: ResolvedInputs) -> [BoardReference] {
        var boards: [BoardReference] = []
        for (index, value) in resolved.values where inputs[index].fieldName == "board" {
            guard let id = value["board_id"]?.stringValue else { continue }
            boards.append(
                BoardReference(
                    systemName: inputs[index].systemName, inputIndex: index, id: id, target: .input(index)))
        }
        for (field, value) in resolved.fieldValues {
            let node = nodes[field.node]
            guard let id = value["board_id"]?.stringValue, let template = node.template,
                template.orderedInputs[field.ordinal].name == "board"
            else { continue }
            boards.append(
                BoardReference(
                    systemName: "\(node.id).board", inputIndex: fieldUses[field].input, id: id, target: .field(field)))
        }
        return boards.sorted { $0.systemName < $1.systemName }
    }

    /// Whether `resolved` has a value for the field a run's value for `field` is kept under.
    func hasValue(_ resolved: ResolvedInputs, for field: NodeField) -> Bool {
        if let input = fieldUses[field].input, resolved.values[input] != nil { return true }
        return resolved.fieldValues[field] != nil
    }
}
