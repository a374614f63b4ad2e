import Foundation

/// One REST call as the client's transport sees it.
struct InvokeAIRequest: Sendable {
    var method: String
    var path: String
    var query: [URLQueryItem] = []
    var body: Data?
    var contentType: String?
    /// Safe to send again after a connection error or a 429/502/503/504.
    var idempotent: Bool

    static func get(_ path: String, query: [URLQueryItem] = []) -> InvokeAIRequest {
        InvokeAIRequest(method: "GET", path: path, query: query, idempotent: true)
    }
}
