/// One REST call to InvokeAI as the client's observer hears of it (metrics): which endpoint,
/// how long the whole call took (retries and their pauses included), and whether it succeeded.
public struct InvokeAICall: Sendable {
    /// `METHOD /path` with every identifier replaced (`GET /api/v1/queue/{queue_id}/i/{id}`):
    /// a bounded set, whatever the ids.
    public var endpoint: String
    public var seconds: Double
    public var succeeded: Bool

    public init(endpoint: String, seconds: Double, succeeded: Bool) {
        self.endpoint = endpoint
        self.seconds = seconds
        self.succeeded = succeeded
    }

    /// The path's template: after `queue` the queue id, and any segment that is not a short
    /// lowercase word (numbers, UUIDs, image names, model keys) becomes `{id}`.
    static func endpoint(method: String, path: String) -> String {
        var out = method + " "
        var previous = ""
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            out += "/"
            if previous == "queue" {
                out += "{queue_id}"
            } else if isWord(segment) {
                out += segment
            } else {
                out += "{id}"
            }
            previous = String(segment)
        }
        return out
    }

    private static func isWord(_ segment: Substring) -> Bool {
        segment.utf8.count <= 24 && segment.utf8.contains { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }
            && segment.utf8.allSatisfy {
                ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z"))
                    || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                    || $0 == UInt8(ascii: "_")
            }
            && !looksLikeHex(segment)
    }

    /// Ids InvokeAI makes of hex digits only (model keys, hashes) are not words, however short.
    private static func looksLikeHex(_ segment: Substring) -> Bool {
        segment.utf8.count >= 8
            && segment.utf8.allSatisfy {
                ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
                    || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
            }
    }
}
