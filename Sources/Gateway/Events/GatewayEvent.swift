import Foundation
import HTTPServer
import JSONValue

/// One event of the gateway's stream (`run.queued`, `node.progress`, `upstream.connected`...),
/// already encoded for SSE once, so fanning it out to many subscribers costs no re-encoding.
public struct GatewayEvent: Sendable {
    public let id: EventID
    public let type: String
    public let runID: String?
    public let workflow: String?
    /// The tenant owning the event's run (nil for gateway-wide events).
    public let owner: String?
    public let time: Date
    public let data: JSONValue
    /// The SSE message without the preview image.
    public let encoded: [UInt8]
    /// The SSE message with `data.preview` (a denoising preview), for subscribers that asked.
    public let encodedWithPreview: [UInt8]?
    /// A run's own stream ends after this event (asked once per subscriber on fan-out: kept).
    public let isTerminal: Bool

    public init(
        id: EventID, type: String, runID: String?, workflow: String?, owner: String? = nil, time: Date,
        data: JSONValue, preview: JSONValue? = nil
    ) {
        self.id = id
        self.type = type
        self.runID = runID
        self.workflow = workflow
        self.owner = owner
        self.time = time
        self.data = data
        isTerminal = Self.terminalTypes.contains(type)
        encoded = ServerSentEvent.encode(event: type, id: id.description, data: data.compactJSON)
        if let preview, case .object(var fields) = data {
            fields["preview"] = preview
            encodedWithPreview = ServerSentEvent.encode(
                event: type, id: id.description, data: JSONValue.object(fields).compactJSON)
        } else {
            encodedWithPreview = nil
        }
    }

    /// Events after which a run's own stream ends.
    public static let terminalTypes: Set<String> = ["run.completed", "run.failed", "run.canceled"]
}
