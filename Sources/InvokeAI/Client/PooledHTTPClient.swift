import Foundation
import HTTPCore
import Transport

/// A small HTTP/1.1 client (plain `http`) with kept-alive connections, replacing URLSession,
/// whose Linux implementation aborts the process now and then under concurrent use.
///
/// Its connections live on event loops (`EventLoopGroup`, the gateway's own): no thread per
/// exchange, no thread blocked on a socket; each exchange is bounded by its deadline through a
/// loop timer. Connections come from an `HTTPConnectionPool`; callers beyond its limit wait
/// without holding a thread. A request that fails on a reused connection before any byte of an
/// answer arrived (the server closed it while it was idle) is sent once more on a new
/// connection, whatever its method: the server cannot have read it. Task cancellation is not
/// observed; the deadline ends everything.
final class PooledHTTPClient: Sendable {
    let pool: HTTPConnectionPool
    let loops: EventLoopGroup

    init(pool: HTTPConnectionPool = HTTPConnectionPool(), loops: EventLoopGroup = .shared) {
        self.pool = pool
        self.loops = loops
    }

    /// Sends `request` and reads the answer into memory. `connectTimeout` bounds opening a
    /// connection, `timeout` the whole exchange (waiting for a connection included);
    /// a body over `maxBytes` is refused with `tooLarge`.
    func send(
        _ request: HTTPClientRequest, connectTimeout: Double, timeout: Double,
        maxBytes: Int
    ) async throws(HTTPClientError) -> HTTPClientResponse {
        try await send(request, connectTimeout: connectTimeout, by: .after(timeout), maxBytes: maxBytes)
    }

    /// As `send(timeout:)`, within a deadline set earlier (a call's retries share one): a
    /// timeout names the deadline's own seconds, not what was left of them.
    func send(
        _ request: HTTPClientRequest, connectTimeout: Double, by deadline: Deadline, maxBytes: Int
    ) async throws(HTTPClientError) -> HTTPClientResponse {
        try await exchange(
            request, into: .memory(maxBytes: maxBytes), connectTimeout: connectTimeout, by: deadline)
    }

    /// As `send`, the body written to `file` (created or truncated; removed again on failure)
    /// as it arrives; the answer's `body` is empty. Whatever the status, the body is in the file.
    func download(
        _ request: HTTPClientRequest, to file: String, connectTimeout: Double, by deadline: Deadline,
        maxBytes: Int
    ) async throws(HTTPClientError) -> HTTPClientResponse {
        try await exchange(
            request, into: .file(path: file, maxBytes: maxBytes), connectTimeout: connectTimeout, by: deadline)
    }

    /// Open if needed, exchange, retry once on a fresh connection if a reused one turned out
    /// closed; the connection then goes back to the pool.
    private func exchange(
        _ request: HTTPClientRequest, into destination: HTTPClientBodyDestination,
        connectTimeout: Double, by deadline: Deadline
    ) async throws(HTTPClientError) -> HTTPClientResponse {
        // After the application stopped its loops nothing would ever answer.
        if loops.isStopped { throw .cannotConnect("the client's event loops are stopped") }
        let idle = try await pool.acquire(request.endpoint, by: deadline)
        var connection = idle
        defer { pool.release(connection, endpoint: request.endpoint) }
        let first: HTTPClientConnection
        if let idle {
            first = idle
        } else {
            first = try await open(request, connectTimeout: connectTimeout, by: deadline)
        }
        connection = first
        do throws(HTTPClientError) {
            return try await first.exchange(request, into: destination, by: deadline)
        } catch .connectionClosed(beforeAnyResponseByte: true) where first.completedExchanges > 0 {
            let fresh = try await open(request, connectTimeout: connectTimeout, by: deadline)
            connection = fresh
            return try await fresh.exchange(request, into: destination, by: deadline)
        }
    }

    /// A new connection: every address the host resolves to in turn, all of them together
    /// within the connect timeout (or the exchange's deadline, whichever ends first).
    private func open(_ request: HTTPClientRequest, connectTimeout: Double, by deadline: Deadline)
        async throws(HTTPClientError) -> HTTPClientConnection
    {
        let connectDeadline = min(deadline, .after(connectTimeout))
        let target = "\(request.host):\(request.port)"
        let addresses: [SocketAddress]
        do {
            // Name resolution blocks (getaddrinfo): here, on the caller's task, never on a loop.
            addresses = try SocketAddress.resolve(host: request.host, port: request.port, passive: false)
        } catch {
            throw .cannotConnect("cannot resolve \(request.host): \(error)")
        }
        var lastError = "no address"
        let loop = loops.next()
        for address in addresses {
            switch await HTTPClientConnection.open(
                to: address, endpoint: request.endpoint, on: loop, by: connectDeadline)
            {
            case .success(let connection):
                return connection
            case .failure(.failed(let why)):
                lastError = why
            case .failure(.timedOut):
                throw .timedOut("connect to \(target) after \(connectDeadline.seconds) s")
            }
        }
        throw .cannotConnect("connect to \(target): \(lastError)")
    }
}
