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
