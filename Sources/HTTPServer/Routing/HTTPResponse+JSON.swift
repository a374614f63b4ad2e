import Foundation
import HTTPCore

extension HTTPResponse {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A JSON response from any Encodable value. Encoding failure is a programming error
    /// answered with 500 rather than a crash.
    public static func json(_ value: some Encodable, status: HTTPStatus = .ok, contentType: String = "application/json")
        -> HTTPResponse
    {
        do {
            let data = try encoder.encode(value)
            return HTTPResponse(status: status, headers: ["Content-Type": contentType], bytes: Array(data))
        } catch {
            return HTTPResponse.text("could not encode response: \(error)", status: .internalServerError)
        }
    }
}

extension HTTPRequest {
    /// Decodes the body as JSON; a body that does not decode is the client's fault (400),
    /// with the decoder's explanation.
    public func decodeJSON<T: Decodable>(_ type: T.Type) throws -> T {
        guard !body.isEmpty else { throw HTTPError(.badRequest, "the request body is empty; JSON was expected") }
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch let error as DecodingError {
            throw HTTPError(
                .badRequest, "the request body is not valid JSON for this endpoint: \(error.readableDescription)")
        }
    }
}

extension DecodingError {
    /// "at inputs.seed: expected Int" rather than Foundation's long debug dump.
    var readableDescription: String {
        func path(_ context: Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return keys.isEmpty ? "" : " at \(keys.joined(separator: "."))"
        }
        switch self {
        case .dataCorrupted(let context): return "malformed JSON\(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context): return "missing field '\(key.stringValue)'\(path(context))"
        case .typeMismatch(let type, let context): return "expected \(type)\(path(context))"
        case .valueNotFound(let type, let context): return "expected \(type)\(path(context)), found null"
        @unknown default: return "\(self)"
        }
    }
}
