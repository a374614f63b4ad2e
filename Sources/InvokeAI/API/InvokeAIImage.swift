import JSONValue

/// An image record (`ImageDTO`).
public struct InvokeAIImage: Sendable, Equatable {
    public var name: String
    public var width: Int?
    public var height: Int?
    public var boardId: String?
    /// The session (queue item) whose node made the image; nil for uploads.
    public var sessionId: String?
    public var raw: JSONValue

    public init?(_ json: JSONValue) {
        guard let name = json["image_name"]?.stringValue else { return nil }
        self.name = name
        width = json["width"]?.intValue
        height = json["height"]?.intValue
        boardId = json["board_id"]?.stringValue
        sessionId = json["session_id"]?.stringValue
        raw = json
    }
}

/// Which rendition of an image to download.
public enum InvokeAIImageSize: String, Sendable {
    case full
    case thumbnail
}
