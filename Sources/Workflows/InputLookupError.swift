/// A key that names no input, or a label that names several.
public struct InputLookupError: Error, Sendable, Equatable {
    public let message: String
    public let candidates: [String]
}
