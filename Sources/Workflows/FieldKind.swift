/// What a node input holds, as the validator and the graph need to know it.
public indirect enum FieldKind: Sendable, Equatable, CustomStringConvertible {
    case integer, float, string, boolean
    case enumeration([String])
    case image, board, model, color
    case collection(FieldKind)
    /// Anything else (latents, conditioning, a custom node's own type): connection-only in
    /// practice, passed through as given.
    case other(String)

    /// The short type name shown for an input.
    public var description: String {
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
        case .collection(let element): "list of \(element)"
        case .other(let name): name
        }
    }
}
