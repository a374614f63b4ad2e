import Foundation
import HTTPCore
import JSONValue

/// An error a handler throws to answer with an RFC 9457 problem document.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPStatus
    /// A human-readable explanation specific to this occurrence.
    public var detail: String
    /// A short summary of this occurrence's kind (defaults to the type's title).
    public var title: String?
    /// The kind of problem (defaults to the status's: `ProblemType.of`).
    public var problemType: ProblemType
    /// The `type` member: the kind's URI, relative to the server.
    public var type: String { problemType.uri }
    /// Extra members of the problem document (`errors`, `allowed`, ...).
    public var extensions: [String: JSONValue]
    /// Headers to send with the problem (`Allow`, `Retry-After`, ...).
    public var headers: HTTPHeaders

    public init(
        _ status: HTTPStatus,
        _ detail: String,
        title: String? = nil,
        type: ProblemType? = nil,
        extensions: [String: JSONValue] = [:],
        headers: HTTPHeaders = HTTPHeaders()
    ) {
        self.status = status
        self.detail = detail
        self.title = title
        self.problemType = type ?? ProblemType.of(status)
        self.extensions = extensions
        self.headers = headers
    }

    public var description: String { "\(status): \(detail)" }

    /// The `application/problem+json` response. `instance` names the request path; when it is
    /// not known (a request refused before its head was parsed), a `urn:uuid:` names this one
    /// occurrence: every problem document has one. Never stored (`Cache-Control: no-store`).
    public func response(instance: String? = nil) -> HTTPResponse {
        var document = JSONObject(extensions)
        document["type"] = .string(type)
        document["title"] = .string(title ?? problemType.title)
        document["status"] = .int(status.code)
        document["detail"] = .string(detail)
        document["instance"] = .string(instance ?? "urn:uuid:" + UUID().uuidString.lowercased())
        var response = HTTPResponse.json(
            JSONValue.object(document), status: status, contentType: "application/problem+json")
        response.headers["Cache-Control"] = "no-store"
        for (name, value) in headers { response.headers.add(name, value) }
        response.notes.reason = detail
        return response
    }
}
