import Foundation

/// An answer's status line and header fields as `HTTPClientConnection` reads them.
struct HTTPClientResponseHead: Sendable {
    var version: String
    var status: Int
    var reason: String
    var fields: [(name: String, value: String)] = []

    /// Parses `HTTP/1.1 200 OK`.
    init(statusLine: String) throws(HTTPClientError) {
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3,
              let status = Int(parts[1]), (100...999).contains(status) else {
            throw .invalidResponse("status line \(statusLine.prefix(80).debugDescription)")
        }
        version = String(parts[0])
        self.status = status
        reason = parts.count > 2 ? String(parts[2]) : ""
    }

    /// Adds one `name: value` line; a line starting with white space continues the previous
    /// field (obsolete folding, RFC 9112 §5.2).
    mutating func addField(line: String) throws(HTTPClientError) {
        if let first = line.first, first == " " || first == "\t", !fields.isEmpty {
            fields[fields.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
            return
        }
        guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
              !line[..<colon].contains(where: { $0 == " " || $0 == "\t" }) else {
            throw .invalidResponse("header line \(line.prefix(80).debugDescription)")
        }
        fields.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
    }

    /// The field's value, case-insensitive name, repeated fields joined with ", ".
    func value(of name: String) -> String? {
        let values = fields.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

    /// Whether the server lets the connection carry another request (RFC 9112 §9.3).
    var keepsAlive: Bool {
        let options = (value(of: "Connection") ?? "").lowercased().split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }
        if options.contains("close") { return false }
        return version == "HTTP/1.1" || options.contains("keep-alive")
    }
}
