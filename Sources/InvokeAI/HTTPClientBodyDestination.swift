/// Where `HTTPClientConnection` puts an answer's body, and how much of it is accepted.
enum HTTPClientBodyDestination: Sendable {
    /// Into `HTTPClientResponse.body`.
    case memory(maxBytes: Int)
    /// Into a file created (or truncated) at `path` and removed again if the exchange fails.
    case file(path: String, maxBytes: Int)

    var maxBytes: Int {
        switch self {
        case .memory(let limit), .file(_, let limit): limit
        }
    }
}
