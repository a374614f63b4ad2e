import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A plain HTTP/1.1 client for tests: one request per connection (`Connection: close`), over
/// POSIX sockets, the whole answer read to the end. The tests use it instead of URLSession, whose
/// Linux implementation (FoundationNetworking) can abort the whole test process ("Trying to access
/// a behaviour for a task that in not in the registry") when many tests use it at once.
public enum TestHTTP {
    public struct Response: Sendable {
        public let status: Int
        /// Header names in lower case; repeated fields joined with ", ".
        public let headers: [String: String]
        public let body: Data

        public var statusCode: Int { status }
        public var allHeaderFields: [String: String] { headers }
        public func value(forHTTPHeaderField name: String) -> String? { headers[name.lowercased()] }
    }

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
        return (response.body, response)
    }

    public static func data(for request: URLRequest) async throws -> (Data, Response) {
        let response = try await send(
            request.httpMethod ?? "GET", request.url!, headers: request.allHTTPHeaderFields ?? [:],
            body: request.httpBody, timeout: request.timeoutInterval)
        return (response.body, response)
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
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var time = timeval(tv_sec: Int(timeout), tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure(description: "connect to \(host):\(port): errno \(errno)") }

        // As sent: percent-encoded, with any trailing slash (InvokeAI's routes tell `/x/` from `/x`).
        let components = URLComponents(url: url, resolvingAgainstBaseURL: true)
        var target = components?.percentEncodedPath ?? "/"
        if target.isEmpty { target = "/" }
        if let query = components?.percentEncodedQuery { target += "?" + query }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try sendAll(fd, Array(head.utf8) + Array(body ?? Data()))

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "recv: errno \(errno) after \(received.count) bytes")
            }
            received.append(contentsOf: buffer[0..<count])
        }
        return try parse(received, method: method)
    }

    private static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "send: errno \(errno)")
            }
            offset += sent
        }
    }

    /// Status line, header fields and body (de-chunked when chunked); 1xx answers are skipped.
    static func parse(_ bytes: [UInt8], method: String) throws -> Response {
        var rest = bytes[...]
        while true {
            guard let end = rest.firstRange(of: [13, 10, 13, 10]) else {
                throw Failure(description: "incomplete answer: \(bytes.count) bytes")
            }
            let lines = String(decoding: rest[rest.startIndex..<end.lowerBound], as: UTF8.self).components(
                separatedBy: "\r\n")
            rest = rest[end.upperBound...]
            let statusParts = lines[0].split(separator: " ", maxSplits: 2)
            guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
                throw Failure(description: "bad status line: \(lines[0])")
            }
            if (100..<200).contains(status) { continue }
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                headers[name] = headers[name].map { $0 + ", " + value } ?? value
            }
            var body = Array(rest)
            if method == "HEAD" || status == 204 || status == 304 {
                body = []
            } else if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
                body = try dechunk(rest)
            } else if let length = headers["content-length"].flatMap(Int.init), length <= body.count {
                body = Array(body.prefix(length))
            }
            return Response(status: status, headers: headers, body: Data(body))
        }
    }

    private static func dechunk(_ input: ArraySlice<UInt8>) throws -> [UInt8] {
        var rest = input
        var out: [UInt8] = []
        while true {
            guard let lineEnd = rest.firstRange(of: [13, 10]) else {
                throw Failure(description: "chunked body cut short")
            }
            let sizeText = String(decoding: rest[rest.startIndex..<lineEnd.lowerBound], as: UTF8.self).split(
                separator: ";")[0]
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                throw Failure(description: "bad chunk size '\(sizeText)'")
            }
            rest = rest[lineEnd.upperBound...]
            if size == 0 { return out }
            guard rest.count >= size + 2 else { throw Failure(description: "chunk cut short") }
            out.append(contentsOf: rest.prefix(size))
            rest = rest.dropFirst(size + 2)
        }
    }
}
