import HTTPCore

#if canImport(Glibc)
import Glibc
#endif

/// Opens TCP connections to one host and port: every resolved address in turn, each connect
/// made non-blocking so the whole attempt ends by its deadline, the socket handed back blocking
/// and with `TCP_NODELAY` (requests are written whole; Nagle would only delay them).
struct TCPConnector: Sendable {
    var host: String
    var port: Int

    /// A connected, blocking socket; the caller owns it and must close it. `timeout` bounds
    /// the connects to all addresses together (name resolution is not bounded by it).
    func connect(timeout: Double) throws(TCPConnectError) -> Int32 {
        try connect(by: .after(timeout))
    }

    /// As `connect(timeout:)`, ending by `deadline`.
    func connect(by deadline: Deadline) throws(TCPConnectError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw .unreachable("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            // Close-on-exec: processes started later (the test harness starts some) must not inherit it.
            let fd = socket(
                info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue),
                info.pointee.ai_protocol)
            if fd < 0 { lastError = String(cString: strerror(errno)); continue }
            switch Self.finishConnect(fd, to: info.pointee, by: deadline) {
            case .connected:
                var one: Int32 = 1
                _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return fd
            case .failed(let why):
                lastError = why
                Glibc.close(fd)
            case .timedOut:
                Glibc.close(fd)
                throw .timedOut("connect to \(host):\(port) after \(deadline.seconds) s")
            }
        }
        throw .unreachable("connect to \(host):\(port): \(lastError)")
    }

    private enum Outcome { case connected, failed(String), timedOut }

    /// Connects `fd` without blocking past `deadline`, then makes it blocking again.
    private static func finishConnect(_ fd: Int32, to info: addrinfo, by deadline: Deadline) -> Outcome {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        if Glibc.connect(fd, info.ai_addr, info.ai_addrlen) == 0 { return .connected }
        // EINTR: the connect goes on in the background, exactly as with EINPROGRESS.
        guard errno == EINPROGRESS || errno == EINTR else { return .failed(String(cString: strerror(errno))) }
        while true {
            if deadline.hasPassed { return .timedOut }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&pfd, 1, deadline.pollTimeout)
            if ready < 0 {
                if errno == EINTR { continue }
                return .failed("poll: \(String(cString: strerror(errno)))")
            }
            if ready == 0 { continue } // the deadline check above decides
            var socketError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length)
            return socketError == 0 ? .connected : .failed(String(cString: strerror(socketError)))
        }
    }
}

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
