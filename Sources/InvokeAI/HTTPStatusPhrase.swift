/// Readable text for an HTTP status code, for error messages when an answer has no body
/// (lower case, as Foundation's `HTTPURLResponse.localizedString(forStatusCode:)` wrote it).
enum HTTPStatusPhrase {
    static func text(for status: Int) -> String {
        if let known = phrases[status] { return known }
        switch status {
        case 100..<200: return "informational"
        case 200..<300: return "success"
        case 300..<400: return "redirected"
        case 400..<500: return "client error"
        case 500..<600: return "server error"
        default: return "status \(status)"
        }
    }

    private static let phrases: [Int: String] = [
        200: "no error", 201: "created", 202: "accepted", 204: "no content",
        301: "moved permanently", 302: "found", 304: "not modified", 307: "temporary redirect", 308: "permanent redirect",
        400: "bad request", 401: "unauthorized", 403: "forbidden", 404: "not found", 405: "method not allowed",
        406: "unacceptable", 408: "request timed out", 409: "conflict", 410: "no longer exists",
        411: "length required", 413: "request too large", 415: "unsupported media type",
        422: "unprocessable entity", 429: "too many requests",
        500: "internal server error", 501: "unimplemented", 502: "bad gateway", 503: "service unavailable",
        504: "gateway timed out",
    ]
}
