import HTTPCore

/// A complete request: head, body, and what routing learned about it.
public struct HTTPRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
    /// Header fields sent after a chunked body, if any.
    public var trailers: HTTPHeaders
    /// Values of the `{name}` segments of the matched route, percent-decoded.
    public var pathParameters: [String: String] = [:]
    /// The peer's address as text (`127.0.0.1:50123`, `[::1]:50123`), when known.
    public var remoteAddress: String?
    /// `X-Request-Id`: the client's when sane, else made by the server; echoed on the response.
    public var requestID = ""

    public init(head: HTTPRequestHead, body: [UInt8] = [], trailers: HTTPHeaders = HTTPHeaders()) {
        self.head = head
        self.body = body
        self.trailers = trailers
    }

    public var method: HTTPMethod { head.method }
    public var path: String { head.path }
    public var headers: HTTPHeaders { head.headers }
    public var version: HTTPVersion { head.version }

    /// Query parameters in order, percent-decoded (`+` as space, as HTML forms send it).
    public var queryItems: [(name: String, value: String)] {
        guard let query = head.query, !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentEncoding.decode(String(parts[0]), plusAsSpace: true) ?? String(parts[0])
            let rawValue = parts.count > 1 ? String(parts[1]) : ""
            let value = PercentEncoding.decode(rawValue, plusAsSpace: true) ?? rawValue
            return (name: name, value: value)
        }
    }

    /// The first value of a query parameter.
    public func query(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }

    /// A query parameter used as a filter or choice: absent and empty (`?type=`) are the same.
    public func filledQuery(_ name: String) -> String? {
        query(name).flatMap { $0.isEmpty ? nil : $0 }
    }
}
