import JSONValue

/// An `enqueue_batch` request body, written out: what the gateway posts to InvokeAI.
public struct EnqueueBatchBody: Sendable {
    public let bytes: [UInt8]
    /// The `steps` of each graph node that has them (denoising), to count progress by.
    public let nodeSteps: [String: Int]

    /// The body as a value, for tests and diagnostics.
    public var json: JSONValue { try! FastJSONParser.parse(bytes) }
}
