import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A loopback port where every request gets the same fixed answer, one per connection (an
/// upstream that, say, no longer has an image): read the head, write the answer, close.
public final class AnsweringPort: @unchecked Sendable {
    public let port: Int
    private let fd: Int32

    public init(_ answer: String) throws {
        (fd, port) = try bindLoopbackPort(listening: true)
        let fd = fd
        let bytes = Array(answer.utf8)
        Thread.detachNewThread {
            while true {
                let connection = accept(fd, nil, nil)
                guard connection >= 0 else { return } // closed: the test is over
                var head: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while !head.ends(with: Array("\r\n\r\n".utf8)) {
                    let n = read(connection, &buffer, buffer.count)
                    guard n > 0 else { break }
                    head += buffer[..<n]
                }
                _ = bytes.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                Glibc.close(connection)
            }
        }
    }

    public var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Stops accepting (the thread's accept fails and it ends).
    public func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}
