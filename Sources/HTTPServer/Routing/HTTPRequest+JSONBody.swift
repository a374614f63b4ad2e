import HTTPCore

extension HTTPRequest {
    /// Refuses (415) a body sent as anything but JSON: the types a cross-site HTML form or a
    /// preflight-free `fetch` may send (`text/plain`, form encodings) must not reach a route
    /// that acts on JSON. No Content-Type at all passes (scripts and services that omit it; a
    /// browser always sends one with a form, and an `Origin` with a fetch).
    public func requireJSONBody() throws {
        guard !body.isEmpty, let contentType = headers["Content-Type"] else { return }
        let type = ParameterizedValue(parsing: contentType).value.lowercased()
        guard type != "application/json", !(type.hasPrefix("application/") && type.hasSuffix("+json")) else { return }
        throw HTTPError(
            .unsupportedMediaType, "the body must be sent as Content-Type: application/json, not \(type)",
            headers: ["Accept-Post": "application/json"])
    }
}
