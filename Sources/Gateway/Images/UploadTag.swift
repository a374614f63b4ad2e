/// What an upload through `POST /v1/images` carries in InvokeAI's image record (its
/// `session_id`, which InvokeAI's upload takes as it is and keeps): the tenant that uploaded it
/// and the gateway's destination, so ownership lives in InvokeAI like a run's.
/// `invokeai-gateway-upload@<tenant>:<destination>` (`<tenant>` empty for the anonymous one).
enum UploadTag {
    static func text(tenant: String, destination: String) -> String {
        "invokeai-gateway-upload@\(tenant):\(destination)"
    }

    /// Whether an image record's `session_id` is this gateway's upload tag, for `tenant` (any
    /// tenant when nil).
    static func matches(_ sessionId: String?, tenant: String?, destination: String) -> Bool {
        guard let sessionId else { return false }
        if let tenant { return sessionId == text(tenant: tenant, destination: destination) }
        return sessionId.hasPrefix("invokeai-gateway-upload@") && sessionId.hasSuffix(":\(destination)")
    }
}
