import JSONValue

/// How a workflow's inputs changed between two versions, by system name.
public struct DriftReport: Sendable, Equatable {
    public struct Move: Sendable, Equatable { public let systemName: String; public let from: Int; public let to: Int }
    public let unchanged: [String]
    public let moved: [Move]
    public let missing: [String]
    public let added: [String]

    /// Callers addressing inputs by index are safe: nothing moved or disappeared.
    public var isCompatible: Bool { moved.isEmpty && missing.isEmpty }
}
