/// An image a node produced.
public struct OutputImage: Sendable, Equatable {
    public let name: String
    public let width: Int?
    public let height: Int?
}
