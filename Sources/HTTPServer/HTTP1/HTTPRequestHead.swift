import HTTPCore

/// The request line and header fields of a request, as decoded from the wire.
public struct HTTPRequestHead: Sendable {
    public var method: HTTPMethod
    /// The request target exactly as sent (for example `/v1/runs?status=failed`).
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders

    public init(
        method: HTTPMethod, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders()
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }

    /// The path part of the target, still percent-encoded. For an absolute-form target
    /// (`http://host/x?y`) it is the path after the authority.
    public var path: String {
        let utf8 = target.utf8
        if utf8.first == UInt8(ascii: "/") {
            // origin-form, the usual case: a byte scan, no Foundation string search.
            guard let q = utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
            return String(target[..<q])
        }
        var rest = Substring(target)
        if let scheme = rest.range(of: "://") {
            rest = rest[scheme.upperBound...]
            rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        if let q = rest.firstIndex(of: "?") { rest = rest[..<q] }
        return String(rest)
    }

    /// The raw query string after `?`, if any.
    public var query: String? {
        guard let q = target.firstIndex(of: "?") else { return nil }
        return String(target[target.index(after: q)...])
    }

    /// Whether the client allows the connection to stay open after this exchange
    /// (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    public var keepAlive: Bool {
        let tokens = headers.tokens("Connection")
        if version == .http1_0 { return tokens.contains("keep-alive") }
        return !tokens.contains("close")
    }

    /// Whether the client waits for `100 Continue` before sending the body.
    public var expectsContinue: Bool {
        headers["Expect"]?.caseInsensitiveEquals("100-continue") ?? false
    }
}
