import HTTPCore
import HTTPServer

/// Which browser origins may read the gateway's answers cross-origin. Off (empty) by default;
/// `*` allows any origin.
public struct CORSPolicy: Sendable, Equatable {
    public var allowedOrigins: Set<String>

    public init(allowedOrigins: Set<String> = []) { self.allowedOrigins = allowedOrigins }

    /// The headers to add for this request, if its Origin is allowed.
    public func headers(for request: HTTPRequest) -> HTTPHeaders {
        guard let origin = request.headers["Origin"], !allowedOrigins.isEmpty else { return HTTPHeaders() }
        if allowedOrigins.contains("*") { return ["Access-Control-Allow-Origin": "*"] }
        guard allowedOrigins.contains(origin) else { return HTTPHeaders() }
        return ["Access-Control-Allow-Origin": origin, "Vary": "Origin"]
    }
}
