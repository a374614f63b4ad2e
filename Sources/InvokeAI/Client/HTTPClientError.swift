import HTTPCore

/// Why an exchange of `PooledHTTPClient` failed. Only `connectionClosed(beforeAnyResponseByte: true)`
/// says for sure that the server never answered; after the others it may have acted.
enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No connection could be opened (unresolvable, refused, unreachable).
    case cannotConnect(String)
    /// The connect, the request or the answer did not complete by the deadline.
    case timedOut(String)
    /// The peer closed or reset the connection; `beforeAnyResponseByte`: nothing of an answer
    /// had arrived yet (typically a kept-alive connection the server had closed while idle).
    case connectionClosed(beforeAnyResponseByte: Bool)
    /// The answer is not well-formed HTTP/1.x.
    case invalidResponse(String)
    /// The answer's body is larger than the caller allowed.
    case tooLarge(limit: Int)
    /// The body could not be written to the file it was to be downloaded to.
    case cannotWriteFile(String)

    var description: String {
        switch self {
        case .cannotConnect(let why): "cannot connect: \(why)"
        case .timedOut(let what): "timed out: \(what)"
        case .connectionClosed(let early):
            early ? "connection closed before any answer" : "connection closed in the middle of the answer"
        case .invalidResponse(let why): "invalid HTTP answer: \(why)"
        case .tooLarge(let limit): "answer body over the limit of \(limit) bytes"
        case .cannotWriteFile(let why): "cannot write the download: \(why)"
        }
    }
}

extension HTTPClientError {
    /// A malformed answer head, told as `invalidResponse` naming the line.
    init(_ error: HTTPResponseHeadError) {
        switch error {
        case .invalidStatusLine(let line): self = .invalidResponse("status line \(line.prefix(80).debugDescription)")
        case .invalidFieldLine(let line): self = .invalidResponse("header line \(line.prefix(80).debugDescription)")
        }
    }
}
