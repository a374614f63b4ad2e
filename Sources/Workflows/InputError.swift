import JSONValue

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
