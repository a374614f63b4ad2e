import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A blocking server-sent-events client on a raw socket, for loopback tests: sends one GET,
/// reads the head, then decodes the chunked body into events as they arrive.
final class SSETestClient: @unchecked Sendable {
    struct Event: Equatable, Sendable {
        var event: String?
        var id: String?
        var data: String
    }

    let fd: Int32
    private var raw: [UInt8] = [] // undecoded socket bytes
    private var body: [UInt8] = [] // de-chunked body bytes not yet parsed into events
    private(set) var status = 0
    private(set) var headers: [String: String] = [:]
    private(set) var comments: [String] = []
    private(set) var retry: Int?
    private(set) var ended = false

    init(port: Int, target: String, headers extra: [String: String] = [:], receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { Glibc.close(fd); throw POSIXError(.ECONNREFUSED) }
        var request = "GET \(target) HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n"
        for (name, value) in extra { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        _ = request.utf8CString.withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
        try readHead()
    }

    deinit { if !closed { Glibc.close(fd) } }

    private var closed = false

    /// Drops the connection (a client that goes away mid-stream).
    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    /// When the current `next()` gives up, heartbeats or not: a test must fail, not hang.
    private var deadline = Date.distantFuture
    static let patience: TimeInterval = 60

    private func fill() throws -> Bool {
        if Date() > deadline { throw POSIXError(.ETIMEDOUT) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &buffer, buffer.count, 0)
        if n < 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        if n == 0 { ended = true; return false }
        raw += buffer[0..<n]
        return true
    }

    private func readHead() throws {
        while true {
            if let end = find([13, 10, 13, 10], in: raw) {
                let text = String(decoding: raw[0..<end], as: UTF8.self)
                raw.removeFirst(end + 4)
                let lines = text.components(separatedBy: "\r\n")
                status = Int(lines[0].split(separator: " ")[1]) ?? 0
                for line in lines.dropFirst() {
                    if let colon = line.firstIndex(of: ":") {
                        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                            in: .whitespaces)
                    }
                }
                return
            }
            guard try fill() else { throw POSIXError(.ECONNRESET) }
        }
    }

    /// Moves complete chunks from `raw` to `body`; notes the last chunk.
    private func dechunk() {
        if headers["transfer-encoding"] != "chunked" { body += raw; raw = []; return }
        while let lineEnd = find([13, 10], in: raw) {
            let size = Int(String(decoding: raw[0..<lineEnd], as: UTF8.self), radix: 16) ?? 0
            guard raw.count >= lineEnd + 2 + size + 2 else { return }
            if size == 0 { ended = true; raw = []; return }
            body += raw[(lineEnd + 2)..<(lineEnd + 2 + size)]
            raw.removeFirst(lineEnd + 2 + size + 2)
        }
    }

    /// The next event; nil when the stream ended first (or, with `stopAtComment`, when a
    /// comment-only block arrived).
    func next(stopAtComment: Bool = false) throws -> Event? {
        deadline = Date().addingTimeInterval(Self.patience)
        while true {
            dechunk()
            while let end = find([10, 10], in: body) {
                let block = String(decoding: body[0..<end], as: UTF8.self)
                body.removeFirst(end + 2)
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
            if ended { return nil }
            guard try fill() else { return nil }
        }
    }

    /// The next comment line (`: text`), skipping any events before it; nil when the stream ends.
    func nextComment() throws -> String? {
        let seen = comments.count
        while comments.count == seen {
            if try next(stopAtComment: true) == nil, comments.count == seen, ended { return nil }
        }
        return comments[seen]
    }

    /// Reads until the server closes or ends the body; true when it did.
    func endsWithoutMoreEvents() throws -> Bool { try next() == nil }

    private func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count)
        where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
        return nil
    }
}
