/// Why `TCPConnector` could not open a connection.
enum TCPConnectError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nobody took the connection: the name did not resolve, or every address refused it or
    /// could not be reached.
    case unreachable(String)
    /// No address answered within the connect timeout.
    case timedOut(String)

    var description: String {
        switch self {
        case .unreachable(let why): "cannot connect: \(why)"
        case .timedOut(let what): "connect timed out: \(what)"
        }
    }
}
