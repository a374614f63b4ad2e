import Foundation
import JSONValue

extension InvokeAIClient {
    /// `GET /api/v1/workflows/`: one page of the workflow library (`items`, `page`, `pages`, ...).
    /// `categories`: `user`, `default`, `project`; `orderBy`: e.g. `updated_at` (with
    /// `descending`), else InvokeAI's default order.
    public func workflows(
        categories: [String] = [], query: String? = nil, page: Int = 0, perPage: Int = 100,
        orderBy: String? = nil, descending: Bool = false
    ) async throws(InvokeAIError) -> JSONValue {
        var items = [
            URLQueryItem(name: "page", value: String(page)), URLQueryItem(name: "per_page", value: String(perPage)),
        ]
        items += categories.map { URLQueryItem(name: "categories", value: $0) }
        if let query { items.append(URLQueryItem(name: "query", value: query)) }
        if let orderBy {
            items.append(URLQueryItem(name: "order_by", value: orderBy))
            items.append(URLQueryItem(name: "direction", value: descending ? "DESC" : "ASC"))
        }
        return try await json(.get("api/v1/workflows/", query: items))
    }

    /// `GET /api/v1/workflows/i/{id}`: the record, with the workflow itself under `workflow`.
    public func workflow(_ workflowId: String) async throws(InvokeAIError) -> JSONValue {
        try await json(.get("api/v1/workflows/i/\(Self.pathSegment(workflowId))"))
    }
}
