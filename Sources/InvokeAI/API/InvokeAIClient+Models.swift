import Foundation
import JSONValue

extension InvokeAIClient {
    /// `GET /api/v2/models/[?base_models=&model_type=]`: model configs (`key`, `name`, `base`, `type`, ...).
    public func models(base: String? = nil, type: String? = nil) async throws(InvokeAIError) -> [JSONValue] {
        var query: [URLQueryItem] = []
        if let base { query.append(URLQueryItem(name: "base_models", value: base)) }
        if let type { query.append(URLQueryItem(name: "model_type", value: type)) }
        let answer = try await json(.get("api/v2/models/", query: query))
        guard let models = answer["models"]?.arrayValue else { throw .invalidResponse("models: no list") }
        return models
    }
}
