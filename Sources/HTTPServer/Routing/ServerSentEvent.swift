/// One message of a `text/event-stream` (the WHATWG server-sent events format), encoded to bytes.
/// Field values must not contain line breaks (they would start new fields), so `data` is split
/// into one `data:` line per line, which the browser joins back with "\n".
public enum ServerSentEvent {
    public static let contentType = "text/event-stream; charset=utf-8"

    /// `event:` + `id:` + `data:` lines and the blank line that dispatches the event.
    public static func encode(event: String?, id: String?, data: String) -> [UInt8] {
        var out = ""
        out.reserveCapacity(data.utf8.count + 64)
        if let event { out += "event: \(singleLine(event))\n" }
        if let id { out += "id: \(singleLine(id))\n" }
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) {
            out += "data: "
            out += line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
            out += "\n"
        }
        out += "\n"
        return Array(out.utf8)
    }

    /// Reconnection advice for the client, in milliseconds.
    public static func retry(milliseconds: Int) -> [UInt8] { Array("retry: \(milliseconds)\n\n".utf8) }

    /// A comment line: ignored by clients, keeps proxies and idle timers from closing the stream.
    public static func comment(_ text: String) -> [UInt8] { Array(": \(singleLine(text))\n\n".utf8) }

    private static func singleLine(_ text: String) -> String {
        text.contains(where: { $0 == "\n" || $0 == "\r" }) ? text.filter { $0 != "\n" && $0 != "\r" } : text
    }
}
