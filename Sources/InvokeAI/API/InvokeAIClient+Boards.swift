import Foundation
import JSONValue

extension InvokeAIClient {
    /// `GET /api/v1/boards/?all=true`: every board (`BoardDTO`s).
    public func boards(includeArchived: Bool = false) async throws(InvokeAIError) -> [JSONValue] {
        let answer = try await json(
            .get(
                "api/v1/boards/",
                query: [
                    URLQueryItem(name: "all", value: "true"),
                    URLQueryItem(name: "include_archived", value: includeArchived ? "true" : "false"),
                ]))
        guard let list = answer.arrayValue ?? answer["items"]?.arrayValue else {
            throw .invalidResponse("boards: expected a list")
        }
        return list
    }

    /// `POST /api/v1/boards/?board_name=`: the new board (its `board_id`). Not retried.
    public func createBoard(name: String) async throws(InvokeAIError) -> JSONValue {
        try await json(
            InvokeAIRequest(
                method: "POST", path: "api/v1/boards/", query: [URLQueryItem(name: "board_name", value: name)],
                idempotent: false))
    }

    /// `DELETE /api/v1/boards/{id}[?include_images=true]`.
    @discardableResult
    public func deleteBoard(_ boardId: String, includeImages: Bool = false) async throws(InvokeAIError) -> JSONValue {
        try await json(
            InvokeAIRequest(
                method: "DELETE", path: "api/v1/boards/\(Self.pathSegment(boardId))",
                query: [URLQueryItem(name: "include_images", value: includeImages ? "true" : "false")], idempotent: true
            ))
    }

    /// `GET /api/v1/boards/{id}/image_names`.
    public func boardImageNames(_ boardId: String) async throws(InvokeAIError) -> [String] {
        let answer = try await json(.get("api/v1/boards/\(Self.pathSegment(boardId))/image_names"))
        guard let names = answer.arrayValue ?? answer["image_names"]?.arrayValue else {
            throw .invalidResponse("board image names: expected a list")
        }
        return names.compactMap(\.stringValue)
    }
}
