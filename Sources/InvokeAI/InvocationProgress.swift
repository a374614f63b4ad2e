import JSONValue

/// `invocation_progress`: what the node said about its progress. InvokeAI 6.14.2 has no
/// step/total fields; a consumer that knows the steps derives them.
public struct InvocationProgress: Sendable, Equatable {
    public var message: String
    /// 0...1, or nil when the node did not say.
    public var percentage: Double?
    /// The preview image (`width`, `height`, `dataURL`) when the node sent one.
    public var image: JSONValue?

    public init(message: String, percentage: Double?, image: JSONValue? = nil) {
        self.message = message
        self.percentage = percentage
        self.image = image
    }
}
