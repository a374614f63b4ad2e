import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A plain HTTP/1.1 client for tests: one request per connection (`Connection: close`) over a
/// `TestSocket`, the answer read whole, then the connection to its end. The tests use it instead
/// of URLSession, whose Linux implementation (FoundationNetworking) can abort the whole test
/// process ("Trying to access a behaviour for a task that in not in the registry") when many tests
/// use it at once.
public enum TestHTTP {
    /// `headers`: names in lower case, repeated fields joined with ", ".
    public typealias Response = TestSocket.Response

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Sends one request to an `http://` URL on a numeric IPv4 host or `localhost` and waits for
    /// the whole answer, at most `timeout` seconds between bytes.
    public static func send(
        _ method: String = "GET", _ url: URL, headers: [String: String] = [:], body: Data? = nil,
        timeout: TimeInterval = 300
    ) async throws -> Response {
        try await blocking {
            // Redirects are followed (InvokeAI redirects a path without its trailing slash), a few at most.
            var url = url
            for _ in 0..<5 {
                let response = try exchange(method, url, headers: headers, body: body, timeout: timeout)
                guard [301, 302, 307, 308].contains(response.status),
                    let location = response.value(forHTTPHeaderField: "Location"),
                    let next = URL(string: location, relativeTo: url)?.absoluteURL
                else { return response }
                url = next
            }
            throw Failure(description: "too many redirects from \(url)")
        }
    }

    /// `send` with a JSON body.
    public static func send(_ method: String, _ url: URL, jsonText: String, headers: [String: String] = [:])
        async throws -> Response
    {
        var headers = headers
        headers["Content-Type"] = headers["Content-Type"] ?? "application/json"
        return try await send(method, url, headers: headers, body: Data(jsonText.utf8))
    }

    /// URLSession's shapes, so a test reads the same with either.
    public static func data(from url: URL) async throws -> (Data, Response) {
        let response = try await send("GET", url)
        return (Data(response.body), response)
    }

    public static func data(for request: URLRequest) async throws -> (Data, Response) {
        let response = try await send(
            request.httpMethod ?? "GET", request.url!, headers: request.allHTTPHeaderFields ?? [:],
            body: request.httpBody, timeout: request.timeoutInterval)
        return (Data(response.body), response)
    }

    public static func upload(for request: URLRequest, from body: Data) async throws -> (Data, Response) {
        var request = request
        request.httpBody = body
        return try await data(for: request)
    }

    static func exchange(_ method: String, _ url: URL, headers: [String: String], body: Data?, timeout: TimeInterval)
        throws -> Response
    {
        guard url.scheme == "http", let host = url.host else {
            throw Failure(description: "TestHTTP: only http:// URLs, not \(url)")
        }
        let port = url.port ?? 80
        // A reset fails the exchange: the answer must end with the connection closed cleanly.
        let socket = try TestSocket(
            host: host, port: port, timeout: .milliseconds(Int(timeout * 1000)), resetIsClose: false)

        // As sent: percent-encoded, with any trailing slash (InvokeAI's routes tell `/x/` from `/x`).
        let components = URLComponents(url: url, resolvingAgainstBaseURL: true)
        var target = components?.percentEncodedPath ?? "/"
        if target.isEmpty { target = "/" }
        if let query = components?.percentEncodedQuery { target += "?" + query }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try socket.send(Array(head.utf8) + Array(body ?? Data()))

        // Interim (1xx) answers are skipped; after the answer the server closes the connection.
        var response = try socket.readResponse(head: method == "HEAD")
        while (100..<200).contains(response.status) { response = try socket.readResponse(head: method == "HEAD") }
        _ = try socket.readToEnd()
        return response
    }
}
