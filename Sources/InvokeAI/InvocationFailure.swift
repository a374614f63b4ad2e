/// Why a node or a queue item failed, as InvokeAI reports it.
public struct InvocationFailure: Sendable, Equatable {
    /// The exception class name, e.g. `GatewayTestError`.
    public var errorType: String
    public var errorMessage: String
    public var errorTraceback: String?

    public init(errorType: String, errorMessage: String, errorTraceback: String? = nil) {
        self.errorType = errorType
        self.errorMessage = errorMessage
        self.errorTraceback = errorTraceback
    }
}
