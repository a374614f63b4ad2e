import Foundation

/// A blocking server-sent-events client for loopback tests, over a `TestSocket`: sends one GET,
/// reads the head, then decodes the (chunked) body into events as they arrive.
public final class SSETestClient: @unchecked Sendable {
    public struct Event: Equatable, Sendable {
        public var event: String?
        public var id: String?
        public var data: String

        public init(event: String? = nil, id: String? = nil, data: String) {
            self.event = event
            self.id = id
            self.data = data
        }
    }

    /// How long one `next()` may take, heartbeats or not: a test must fail, not hang.
    public static let patience: Duration = .seconds(60)

    private let socket: TestSocket
    private let chunked: Bool
    private var body: [UInt8] = [] // de-chunked body bytes not yet parsed into events
    public let status: Int
    /// Header names in lower case.
    public let headers: [String: String]
    public private(set) var comments: [String] = []
    public private(set) var retry: Int?
    public private(set) var ended = false

    public init(port: Int, target: String, headers extra: [String: String] = [:], receiveBuffer: Int? = nil) throws {
        // A reset is an error here, not an end: a stream must end cleanly.
        socket = try TestSocket(port: port, timeout: .seconds(20), receiveBuffer: receiveBuffer, resetIsClose: false)
        var request = "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: text/event-stream\r\n"
        for (name, value) in extra { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        try socket.send(request)
        let head = try socket.readHead()
        status = head.status
        headers = head.headers
        chunked = headers["transfer-encoding"] == "chunked"
    }

    /// Drops the connection (a client that goes away mid-stream).
    public func close() { socket.close() }

    /// Adds the next piece of the body; false when the stream ended (last chunk or closed connection).
    private func readBody() throws -> Bool {
        if ended { return false }
        if chunked {
            guard let chunk = try socket.nextChunk(), !chunk.isEmpty else {
                ended = true
                return false
            }
            body += chunk
        } else {
            guard try socket.fill() else {
                ended = true
                return false
            }
            body += socket.take(socket.buffered.count)
        }
        return true
    }

    /// The next event; nil when the stream ended first (or, with `stopAtComment`, when a
    /// comment-only block arrived).
    public func next(stopAtComment: Bool = false) throws -> Event? {
        socket.deadline = ContinuousClock.now + Self.patience
        defer { socket.deadline = nil }
        while true {
            while let end = body.firstRange(of: [10, 10]) {
                let block = String(decoding: body[..<end.lowerBound], as: UTF8.self)
                body.removeFirst(end.upperBound)
                var event = Event(event: nil, id: nil, data: "")
                var dataLines: [String] = []
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix(":") {
                        comments.append(String(line.dropFirst().trimmingCharacters(in: .whitespaces))); continue
                    }
                    let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                    let name = String(parts[0])
                    let value = parts.count > 1 ? String(parts[1].hasPrefix(" ") ? parts[1].dropFirst() : parts[1]) : ""
                    switch name {
                    case "event": event.event = value
                    case "id": event.id = value
                    case "data": dataLines.append(value)
                    case "retry": retry = Int(value)
                    default: break
                    }
                }
                event.data = dataLines.joined(separator: "\n")
                if event.event != nil || !dataLines.isEmpty { return event }
                if stopAtComment { return nil }
            }
            guard try readBody() else { return nil }
        }
    }

    /// The next comment line (`: text`), skipping any events before it; nil when the stream ends.
    public func nextComment() throws -> String? {
        let seen = comments.count
        while comments.count == seen {
            if try next(stopAtComment: true) == nil, comments.count == seen, ended { return nil }
        }
        return comments[seen]
    }

    /// Reads until the server closes or ends the body; true when it did.
    public func endsWithoutMoreEvents() throws -> Bool { try next() == nil }
}
