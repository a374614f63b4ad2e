import Foundation
import HTTPCore

/// A small HTTP/1.1 client (plain `http`) with kept-alive connections, replacing URLSession,
/// whose Linux implementation aborts the process now and then under concurrent use.
///
/// Each exchange runs its blocking socket I/O on a thread of its own, never on Swift's
/// cooperative pool, and is bounded by its deadline. Connections come from an
/// `HTTPConnectionPool`; callers beyond its limit wait without holding a thread. A request
/// that fails on a reused connection before any byte of an answer arrived (the server closed
/// it while it was idle) is sent once more on a new connection, whatever its method: the
/// server cannot have read it. Task cancellation is not observed; the deadline ends everything.
final class PooledHTTPClient: Sendable {
    let pool: HTTPConnectionPool

    init(pool: HTTPConnectionPool = HTTPConnectionPool()) {
        self.pool = pool
    }

    /// Sends `request` and reads the answer into memory. `connectTimeout` bounds opening a
    /// connection, `timeout` the whole exchange (waiting for a connection included);
    /// a body over `maxBytes` is refused with `tooLarge`.
    func send(
        _ request: HTTPClientRequest, connectTimeout: Double, timeout: Double,
        maxBytes: Int
    ) async throws(HTTPClientError) -> HTTPClientResponse {
        try await exchange(request, into: .memory(maxBytes: maxBytes), connectTimeout: connectTimeout, timeout: timeout)
    }

    /// As `send`, the body written to `file` (created or truncated; removed again on failure)
    /// as it arrives; the answer's `body` is empty. Whatever the status, the body is in the file.
    func download(
        _ request: HTTPClientRequest, to file: String, connectTimeout: Double, timeout: Double,
        maxBytes: Int
    ) async throws(HTTPClientError) -> HTTPClientResponse {
        try await exchange(
            request, into: .file(path: file, maxBytes: maxBytes), connectTimeout: connectTimeout, timeout: timeout)
    }

    private func exchange(
        _ request: HTTPClientRequest, into destination: HTTPClientBodyDestination,
        connectTimeout: Double, timeout: Double
    ) async throws(HTTPClientError) -> HTTPClientResponse {
        let deadline = Deadline.after(timeout)
        let idle = try await pool.acquire(request.endpoint, by: deadline)
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<HTTPClientResponse, HTTPClientError>, Never>) in
            Thread.detachNewThread { [self] in
                continuation.resume(
                    returning: run(request, on: idle, into: destination, connectTimeout: connectTimeout, by: deadline))
            }
        }
        return try result.get()
    }

    /// The blocking part, on its own thread: open if needed, exchange, retry once on a fresh
    /// connection if a reused one turned out closed; the connection then goes back to the pool.
    private func run(
        _ request: HTTPClientRequest, on idle: HTTPClientConnection?, into destination: HTTPClientBodyDestination,
        connectTimeout: Double, by deadline: Deadline
    ) -> Result<HTTPClientResponse, HTTPClientError> {
        var connection = idle
        defer { pool.release(connection, endpoint: request.endpoint) }
        do throws(HTTPClientError) {
            let first: HTTPClientConnection
            if let idle {
                first = idle
            } else {
                first = try open(request, connectTimeout: connectTimeout, by: deadline)
            }
            connection = first
            do throws(HTTPClientError) {
                return .success(try first.exchange(request, into: destination, by: deadline))
            } catch .connectionClosed(beforeAnyResponseByte: true) where first.completedExchanges > 0 {
                let fresh = try open(request, connectTimeout: connectTimeout, by: deadline)
                connection = fresh
                return .success(try fresh.exchange(request, into: destination, by: deadline))
            }
        } catch {
            return .failure(error)
        }
    }

    private func open(_ request: HTTPClientRequest, connectTimeout: Double, by deadline: Deadline)
        throws(HTTPClientError) -> HTTPClientConnection
    {
        do {
            // Whichever ends first: the connect timeout or the whole exchange's.
            let fd = try TCPConnector(host: request.host, port: request.port).connect(
                by: min(deadline, .after(connectTimeout)))
            return HTTPClientConnection(fd: fd, endpoint: request.endpoint)
        } catch {
            switch error {
            case .unreachable(let why): throw .cannotConnect(why)
            case .timedOut(let what): throw .timedOut(what)
            }
        }
    }
}
