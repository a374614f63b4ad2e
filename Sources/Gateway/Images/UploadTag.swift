/// What an upload through `POST /v1/images` carries in InvokeAI's image record (its
/// `session_id`, which InvokeAI's upload takes as it is and keeps): the tenant that uploaded it
/// and the gateway's destination, so ownership lives in InvokeAI like a run's.
/// `invokeai-gateway-upload@<tenant>:<destination>` (`<tenant>` empty for the anonymous one).
enum UploadTag {
    static func text(tenant: String, destination: String) -> String {
        "invokeai-gateway-upload@\(tenant):\(destination)"
    }
}
