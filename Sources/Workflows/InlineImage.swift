/// An image given inline in a run request (data URL or base64), for the gateway to upload.
public struct InlineImage: Sendable, Equatable {
    public let bytes: [UInt8]
    public let contentType: String
}
