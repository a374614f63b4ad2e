import HTTPCore
import JSONValue

/// An error a handler throws to answer with an RFC 9457 problem document.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPStatus
    /// A human-readable explanation specific to this occurrence.
    public var detail: String
    /// A short, stable summary of the problem type (defaults to the status reason).
    public var title: String?
    /// A URI naming the problem type (`about:blank` when the status says it all).
    public var type: String
    /// Extra members of the problem document (`errors`, `allowed`, ...).
    public var extensions: [String: JSONValue]
    /// Headers to send with the problem (`Allow`, `Retry-After`, ...).
    public var headers: HTTPHeaders

    public init(
        _ status: HTTPStatus,
        _ detail: String,
        title: String? = nil,
        type: String = "about:blank",
        extensions: [String: JSONValue] = [:],
        headers: HTTPHeaders = HTTPHeaders()
    ) {
        self.status = status
        self.detail = detail
        self.title = title
        self.type = type
        self.extensions = extensions
        self.headers = headers
    }

    public var description: String { "\(status): \(detail)" }

    /// The `application/problem+json` response, with `instance` naming the request path.
    public func response(instance: String? = nil) -> HTTPResponse {
        var document = JSONObject(extensions)
        document["type"] = .string(type)
        document["title"] = .string(title ?? status.reason)
        document["status"] = .int(status.code)
        document["detail"] = .string(detail)
        if let instance { document["instance"] = .string(instance) }
        var response = HTTPResponse.json(
            JSONValue.object(document), status: status, contentType: "application/problem+json")
        for (name, value) in headers { response.headers.add(name, value) }
        response.notes.reason = detail
        return response
    }
}
