import CEpoll

#if canImport(Glibc)
import Glibc
#endif

/// Thin wrappers over the POSIX socket calls the server and the clients use. All sockets are non-blocking
/// and close-on-exec; writes never raise SIGPIPE.
package enum Socket {
    /// A listening TCP socket bound to `address`. `reusePort` lets one listener per event loop
    /// share the port so the kernel spreads new connections across loops.
    package static func listen(on address: SocketAddress, reusePort: Bool, backlog: Int32 = 1024) throws -> Int32 {
        let fd = socket(
            address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
            0)
        guard fd >= 0 else { throw SocketError("socket") }
        do {
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if reusePort { try setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
            if address.family == AF_INET6 {
                // "::" serves IPv4 too (dual stack); "::1" is IPv6 only by nature.
                try setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0)
            }
            let bound = address.withSockaddr { bind(fd, $0, $1) }
            guard bound == 0 else { throw SocketError("bind(\(address))") }
            guard Glibc.listen(fd, backlog) == 0 else { throw SocketError("listen(\(address))") }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// Throws `AddressInUseError` when some socket already listens on `address`. The server's own
    /// listeners share their port through SO_REUSEPORT, which would let a second process with the
    /// same user join them silently (the kernel then splits connections between the two): a bind
    /// without SO_REUSEPORT is refused by any listener there, so it is tried first and let go.
    package static func checkAvailable(_ address: SocketAddress) throws {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        defer { close(fd) }
        // SO_REUSEADDR: connections of an earlier process still in TIME_WAIT do not count.
        try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        if address.family == AF_INET6 { try setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0) }
        guard address.withSockaddr({ bind(fd, $0, $1) }) != 0 else { return }
        if errno == EADDRINUSE { throw AddressInUseError(address: address) }
        throw SocketError("bind(\(address))")
    }

    package static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) throws {
        var v = value
        guard setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SocketError("setsockopt(\(name))")
        }
    }

    /// Accepts one pending connection: its fd and peer address, nil when none is pending.
    package static func accept(_ listener: Int32) throws -> (Int32, SocketAddress)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { cepoll_accept(listener, $0, &length) }
        }
        if fd < 0 {
            // A connection reset before we got to it is not our problem: try the next one.
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED || errno == EPROTO { return nil }
            throw SocketError("accept")
        }
        // Small responses should leave at once rather than wait for Nagle's timer.
        try? setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        return (fd, SocketAddress(storage: storage, length: length))
    }

    /// Starts connecting a new non-blocking, close-on-exec socket to `address`. The connect
    /// usually completes later: the socket turns writable, then `connectResult` tells how it went.
    package static func startConnect(to address: SocketAddress) throws -> Int32 {
        let fd = socket(
            address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
            0)
        guard fd >= 0 else { throw SocketError("socket") }
        let result = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        // EINTR: the connect goes on in the background, exactly as with EINPROGRESS.
        if result != 0, errno != EINPROGRESS, errno != EINTR {
            let error = SocketError("connect(\(address))")
            close(fd)
            throw error
        }
        // Requests are written whole: Nagle would only delay them.
        try? setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        return fd
    }

    /// After a started connect made the socket writable: nil if it connected, else the error.
    package static func connectResult(_ fd: Int32) -> SocketError? {
        var socketError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length) == 0 else { return SocketError("getsockopt") }
        return socketError == 0 ? nil : SocketError("connect", code: socketError)
    }

    package enum IOResult {
        case bytes(Int)
        case wouldBlock
        case endOfFile
        case failed(Int32)
    }

    package static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .endOfFile }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
            return .failed(errno)
        }
    }

    /// Writes as much as the socket takes now. MSG_NOSIGNAL: a vanished peer gives EPIPE, not SIGPIPE.
    package static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> IOResult {
        while true {
            let n = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return .bytes(n) }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
            return .failed(errno)
        }
    }
}

/// Another socket (another process) already listens on the address the server was told to use.
public struct AddressInUseError: Error, CustomStringConvertible, Sendable {
    public let address: SocketAddress

    public var description: String {
        "\(address) is already in use by another process (another gateway?); stop it or choose another --port"
    }
}

/// A failed socket system call, with the call's name and errno's text.
public struct SocketError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let code: Int32

    public init(_ call: String, code: Int32 = errno) {
        self.call = call
        self.code = code
    }

    public var description: String { "\(call) failed: \(String(cString: strerror(code))) (errno \(code))" }
}
