import Foundation

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
