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
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line[...], as: UTF8.self)
        }
        if lines.last == "" { lines.removeLast() } // the head's last line ended by its LF
        try self.init(statusLine: lines.first ?? "")
        for line in lines.dropFirst() { try addField(line: line) }
    }

    /// Adds one `name: value` line; a line starting with white space continues the previous
    /// field (obsolete folding, RFC 9112 §5.2).
    public mutating func addField(line: String) throws(HTTPResponseHeadError) {
        if let first = line.first, first == " " || first == "\t", !headers.isEmpty {
            headers.appendToLastValue(" " + line.trimmingHTTPWhitespace())
            return
        }
        guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
            !line[..<colon].contains(where: { $0 == " " || $0 == "\t" })
        else {
            throw .invalidFieldLine(line)
        }
        headers.add(String(line[..<colon]), line[line.index(after: colon)...].trimmingHTTPWhitespace())
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
