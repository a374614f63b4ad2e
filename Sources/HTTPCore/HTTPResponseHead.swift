/// A response's status line and header fields: the one HTTP/1 answer-head parser of the
/// clients (the upstream REST client reads it line by line; the WebSocket handshake parses the
/// whole head at once with `init(parsing:)`).
public struct HTTPResponseHead: Sendable {
    /// As sent, e.g. `HTTP/1.1`.
    public var version: String
    public var status: Int
    /// The reason phrase (may be empty).
    public var reason: String
    public var headers = HTTPHeaders()

    /// Parses `HTTP/1.1 200 OK`.
    public init(statusLine: String) throws(HTTPResponseHeadError) {
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3,
            let status = Int(parts[1]), (100...999).contains(status)
        else {
            throw .invalidStatusLine(statusLine)
        }
        version = String(parts[0])
        self.status = status
        reason = parts.count > 2 ? String(parts[2]) : ""
    }

    /// Parses a whole head: the status line and the field lines, each ended by CRLF or a bare
    /// LF, without the empty line that ends the head.
    public init(parsing bytes: some BidirectionalCollection<UInt8>) throws(HTTPResponseHeadError) {
        var lines = Array(bytes).split(separator: HTTPByte.lf, omittingEmptySubsequences: false).map { line in
            line.last == HTTPByte.cr ? line.dropLast() : line
        }
        if lines.last?.isEmpty == true { lines.removeLast() } // the head's last line ended by its LF
        try self.init(statusLine: String(decoding: lines.first ?? [], as: UTF8.self))
        for line in lines.dropFirst() { try addField(bytes: Array(line)) }
    }

    /// Adds one `name: value` line (as text).
    public mutating func addField(line: String) throws(HTTPResponseHeadError) {
        try addField(bytes: Array(line.utf8))
    }

    /// Adds one `name: value` line, checked by the one field grammar (`HTTPFieldLine`); a line
    /// starting with white space continues the previous field (obsolete folding, which a
    /// client must accept: RFC 9112 §5.2).
    public mutating func addField(bytes line: [UInt8]) throws(HTTPResponseHeadError) {
        if let first = line.first, first == HTTPByte.space || first == HTTPByte.tab, !headers.isEmpty {
            let folded = String(decoding: line, as: UTF8.self).trimmingHTTPWhitespace()
            guard !folded.utf8.contains(where: { $0 < 0x20 && $0 != HTTPByte.tab || $0 == 0x7F }) else {
                throw .invalidFieldLine(String(decoding: line, as: UTF8.self))
            }
            headers.appendToLastValue(" " + folded)
            return
        }
        let field: (name: String, value: String)? = line.withUnsafeBufferPointer { buffer in
            guard let field = try? HTTPFieldLine(parsing: buffer) else { return nil }
            return (field.name(in: buffer), field.value(in: buffer))
        }
        guard let field else { throw .invalidFieldLine(String(decoding: line, as: UTF8.self)) }
        headers.add(field.name, field.value)
    }

    /// The field's value, case-insensitive name, repeated fields joined with ", ".
    public func value(of name: String) -> String? { headers.combinedValue(name) }

    /// Whether the server lets the connection carry another request (RFC 9112 §9.3).
    public var keepsAlive: Bool {
        let options = headers.tokens("Connection")
        if options.contains("close") { return false }
        return version == "HTTP/1.1" || options.contains("keep-alive")
    }
}

/// Why an answer's head could not be read; the offending line is kept for the message.
public enum HTTPResponseHeadError: Error, Equatable, Sendable {
    case invalidStatusLine(String)
    case invalidFieldLine(String)
}
