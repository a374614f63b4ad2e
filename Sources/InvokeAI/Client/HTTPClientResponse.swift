import Foundation
import HTTPCore

/// An HTTP answer as `PooledHTTPClient` read it. For a download to a file, `body` is empty.
struct HTTPClientResponse: Sendable {
    var status: Int
    /// The status line's reason phrase (may be empty).
    var reason: String
    /// Fields in the order received, names as sent.
    var headers: HTTPHeaders
    var body: Data

    /// The field's value, names compared case-insensitively; repeated fields joined with ", "
    /// (RFC 9110 §5.3).
    func value(forHeader name: String) -> String? { headers.combinedValue(name) }
}

/// One request for `PooledHTTPClient`: where it goes and what is sent. `Host` and
/// `Content-Length` are written by the connection; do not put them in `headers`.
struct HTTPClientRequest: Sendable {
    var method: String
    var host: String
    var port: Int
    /// The percent-encoded path with its query, as on the request line: `/api/v1/boards/?all=true`.
    var target: String
    var headers: [(name: String, value: String)] = []
    var body: Data?

    /// `host:port` as the pool keys its connections.
    var endpoint: String { "\(host):\(port)" }

    /// HEAD answers never carry a body, whatever their headers say.
    var expectsNoBody: Bool { method == "HEAD" }

    /// POST, PUT and PATCH always say how long their body is, `Content-Length: 0` when there is
    /// none: servers may otherwise wait for a body or refuse with 411.
    var sendsContentLength: Bool {
        body != nil || method == "POST" || method == "PUT" || method == "PATCH"
    }

    /// The `Host` header's value (IPv6 literals in brackets, port 80 left out).
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }
}
