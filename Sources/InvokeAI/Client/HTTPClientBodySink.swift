import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Receives one answer's body as it is read, in memory or straight into a file, refusing
/// more than the destination's limit.
final class HTTPClientBodySink {
    private let limit: Int
    private let path: String?
    private var fd: Int32 = -1
    private var data = Data()
    private(set) var byteCount = 0

    init(_ destination: HTTPClientBodyDestination) throws(HTTPClientError) {
        limit = destination.maxBytes
        switch destination {
        case .memory:
            path = nil
        case .file(let file, _):
            path = file
            fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            if fd < 0 { throw .cannotWriteFile("\(file): \(String(cString: strerror(errno)))") }
        }
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Refuses at once a body announced larger than the limit; in memory, makes room for it.
    func expect(_ length: Int) throws(HTTPClientError) {
        if length > limit { throw .tooLarge(limit: limit) }
        if fd < 0 { data.reserveCapacity(length) }
    }

    func append(_ bytes: ArraySlice<UInt8>) throws(HTTPClientError) {
        guard !bytes.isEmpty else { return }
        if byteCount + bytes.count > limit { throw .tooLarge(limit: limit) }
        byteCount += bytes.count
        guard fd >= 0 else {
            data.append(contentsOf: bytes)
            return
        }
        let failure = bytes.withUnsafeBytes { Self.writeAll($0, to: fd) }
        if failure != 0 { throw .cannotWriteFile("\(path ?? "?"): \(String(cString: strerror(failure)))") }
    }

    /// Writes every byte; the errno of a failure, else 0.
    private static func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += written
        }
        return 0
    }

    /// The body in memory (empty for a file, which is closed and kept).
    func finish() throws(HTTPClientError) -> Data {
        if fd >= 0 {
            let result = Glibc.close(fd)
            fd = -1
            if result != 0 { throw .cannotWriteFile("\(path ?? "?"): \(String(cString: strerror(errno)))") }
        }
        return data
    }

    /// After a failed exchange: a partial file is not left behind.
    func discard() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
        if let path { unlink(path) }
        data = Data()
    }
}

/// Where `HTTPClientConnection` puts an answer's body, and how much of it is accepted.
enum HTTPClientBodyDestination: Sendable {
    /// Into `HTTPClientResponse.body`.
    case memory(maxBytes: Int)
    /// Into a file created (or truncated) at `path` and removed again if the exchange fails.
    case file(path: String, maxBytes: Int)

    var maxBytes: Int {
        switch self {
        case .memory(let limit), .file(_, let limit): limit
        }
    }
}
