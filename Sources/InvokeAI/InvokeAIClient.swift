import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import JSONValue

/// The gateway's REST client for InvokeAI. It grows with the features that need it.
public final class InvokeAIClient: Sendable {
    public let baseURL: URL
    private let session: URLSession
    private let requestTimeout: TimeInterval

    public init(baseURL: URL, requestTimeout: TimeInterval = 10) {
        self.baseURL = baseURL
        self.requestTimeout = requestTimeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = requestTimeout
        configuration.timeoutIntervalForResource = requestTimeout * 3
        session = URLSession(configuration: configuration)
    }

    /// `GET /api/v1/app/version`: InvokeAI's version string.
    public func appVersion() async throws -> String {
        let body = try await getJSON("api/v1/app/version")
        guard let version = body["version"]?.stringValue else {
            throw InvokeAIError.invalidResponse("no version in /api/v1/app/version")
        }
        return version
    }

    /// GETs a path below the base URL and decodes the JSON answer.
    func getJSON(_ path: String) async throws -> JSONValue {
        let url = baseURL.appendingPathComponent(path)
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(from: url)
        } catch let error as URLError {
            switch error.code {
            case .timedOut: throw InvokeAIError.timedOut("GET \(url.path) after \(Int(requestTimeout)) s")
            default: throw InvokeAIError.cannotConnect("\(url.host ?? "?"):\(url.port ?? 0): \(error.localizedDescription)")
            }
        }
        guard let http = response as? HTTPURLResponse else { throw InvokeAIError.invalidResponse("not HTTP") }
        let json = try? JSONDecoder().decode(JSONValue.self, from: data)
        guard (200..<300).contains(http.statusCode) else {
            let detail = json?["detail"].map { $0.stringValue ?? "\($0)" } ?? String(decoding: data.prefix(500), as: UTF8.self)
            throw InvokeAIError.status(http.statusCode, detail: detail)
        }
        guard let json else { throw InvokeAIError.invalidResponse("GET \(url.path) did not return JSON") }
        return json
    }
}
