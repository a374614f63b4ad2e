import HTTPCore

#if canImport(Glibc)
import Glibc
#endif

/// Serialises response heads and body framing for HTTP/1.x into a byte buffer.
enum HTTPResponseEncoder {
    /// How the body that follows a head is delimited.
    enum Framing: Equatable {
        /// No body bytes follow (HEAD, 204, 304, or a bodyless status).
        case none
        case contentLength(Int)
        case chunked
        /// The body ends when the connection closes (HTTP/1.0 streaming).
        case untilClose
    }

    static func appendHead(
        to out: inout [UInt8],
        status: HTTPStatus,
        headers: HTTPHeaders,
        version: HTTPVersion,
        framing: Framing,
        declaredLength: Int?,
        keepAlive: Bool,
        date: String,
        serverName: String
    ) {
        append(&out, version == .http1_0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        append(&out, String(status.code))
        out.append(0x20)
        append(&out, status.reason)
        appendLine(&out)
        appendField(&out, "Date", date)
        if !headers.contains("Server") { appendField(&out, "Server", serverName) }
        for (name, value) in headers {
            // Framing is the server's business; a handler's own values are dropped, not trusted.
            if name.caseInsensitiveEquals("Content-Length") || name.caseInsensitiveEquals("Transfer-Encoding")
                || name.caseInsensitiveEquals("Connection")
            {
                continue
            }
            appendField(&out, name, value)
        }
        switch framing {
        case .contentLength(let n): appendField(&out, "Content-Length", String(n))
        case .chunked: appendField(&out, "Transfer-Encoding", "chunked")
        case .none:
            // HEAD and 304 announce the length the full response would have had.
            if let declaredLength, status.code != 204 { appendField(&out, "Content-Length", String(declaredLength)) }
        case .untilClose: break
        }
        if !keepAlive {
            appendField(&out, "Connection", "close")
        } else if version == .http1_0 {
            appendField(&out, "Connection", "keep-alive")
        }
        appendLine(&out)
    }

    static func appendChunk(to out: inout [UInt8], _ bytes: [UInt8]) { ChunkedCoding.appendChunk(to: &out, bytes) }

    static func appendLastChunk(to out: inout [UInt8]) { ChunkedCoding.appendLastChunk(to: &out) }

    static let continueHead: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    @inline(__always)
    private static func append(_ out: inout [UInt8], _ text: String) {
        out.append(contentsOf: text.utf8)
    }

    @inline(__always)
    private static func appendLine(_ out: inout [UInt8]) {
        out.append(0x0D)
        out.append(0x0A)
    }

    private static func appendField(_ out: inout [UInt8], _ name: String, _ value: String) {
        append(&out, name)
        out.append(0x3A)
        out.append(0x20)
        // A CR or LF in a value would split the response (header injection): replace them.
        for byte in value.utf8 { out.append(byte == 0x0D || byte == 0x0A ? 0x20 : byte) }
        appendLine(&out)
    }
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) for `Date` and `Last-Modified` headers.
public enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func format(secondsSince1970 seconds: Int) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    public static func now() -> String { format(secondsSince1970: time(nil)) }

    /// Seconds since 1970 of an IMF-fixdate (what `format` writes and clients send back in
    /// `If-Modified-Since`); nil for anything else (the obsolete formats included).
    public static func parse(_ text: String) -> Int? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[0].count == 4, parts[0].hasSuffix(","),
            days.contains(String(parts[0].dropLast())),
            parts[5] == "GMT", let day = Int32(parts[1]), parts[1].count == 2,
            let month = months.firstIndex(of: String(parts[2])), let year = Int32(parts[3]), parts[3].count == 4
        else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }), let hour = Int32(clock[0]),
            let minute = Int32(clock[1]), let second = Int32(clock[2]),
            (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var fields = tm()
        fields.tm_year = year - 1900
        fields.tm_mon = Int32(month)
        fields.tm_mday = day
        fields.tm_hour = hour
        fields.tm_min = minute
        fields.tm_sec = second
        return Int(timegm(&fields))
    }
}
