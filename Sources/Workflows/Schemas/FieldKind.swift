/// What a node input holds, as the validator and the graph need to know it.
public indirect enum FieldKind: Sendable, Equatable, CustomStringConvertible {
    case integer, float, string, boolean
    case enumeration([String])
    case image, board, model, color
    case collection(FieldKind)
    /// Anything else (latents, conditioning, a custom node's own type): connection-only in
    /// practice, passed through as given.
    case other(String)

    /// What a program switches on: one of a fixed set of names (`integer`, `float`, `string`,
    /// `boolean`, `enum`, `image`, `board`, `model`, `color`, `list`, `other`), never parsed
    /// back out of the display text. A list's items have their own (`elementKind`).
    public var machineName: String {
        switch self {
        case .integer: "integer"
        case .float: "float"
        case .string: "string"
        case .boolean: "boolean"
        case .enumeration: "enum"
        case .image: "image"
        case .board: "board"
        case .model: "model"
        case .color: "color"
        case .collection: "list"
        case .other: "other"
        }
    }

    /// The kind of a list's items; nil for anything else.
    public var elementKind: FieldKind? {
        if case .collection(let element) = self { element } else { nil }
    }

    /// The short type name shown for an input (display text: `list of integer`, a custom type's name).
    public var description: String {
        switch self {
        case .collection(let element): "list of \(element)"
        case .other(let name): name
        default: machineName
        }
    }
}
