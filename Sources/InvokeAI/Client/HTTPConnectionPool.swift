import Foundation
import HTTPCore
import Synchronization
import Transport

/// Bookkeeping for `PooledHTTPClient`'s connections: at most `maxConnections` open at once
/// (in use, being opened or idle), kept-alive idle ones per `host:port` for reuse.
///
/// A caller first `acquire`s: it gets an idle connection to reuse, or nil, meaning a slot is
/// reserved for it to open a new one. When every slot is taken it waits (suspended, no thread
/// blocked) until one is released or its deadline passes. Every `acquire` is paired with one
/// `release`, which keeps the connection idle if it may be reused, else closes it.
final class HTTPConnectionPool: Sendable {
    let maxConnections: Int
    let maxIdlePerEndpoint: Int
    /// Idle connections older than this are closed rather than reused: servers close idle
    /// keep-alive connections after a while (uvicorn: 5 s), and a request written just as the
    /// server closes is lost. Staying well below their limit keeps that race rare.
    let maxIdleAge: Double

    /// What a caller may do now: reuse this idle connection, or open one in its reserved slot.
    private enum Grant {
        case reuse(HTTPClientConnection)
        case open

        var connection: HTTPClientConnection? {
            if case .reuse(let connection) = self { connection } else { nil }
        }
    }

    private struct Waiter {
        var id: Int
        var endpoint: String
        var continuation: CheckedContinuation<Result<HTTPClientConnection?, HTTPClientError>, Never>
    }

    private struct State {
        /// Connections open or being opened, idle ones included.
        var openCount = 0
        /// Per endpoint, longest idle first.
        var idle: [String: [HTTPClientConnection]] = [:]
        var waiters: [Waiter] = []
        var lastWaiterID = 0
    }

    private let state = Mutex(State())

    init(maxConnections: Int = 64, maxIdlePerEndpoint: Int = 16, maxIdleAge: Double = 2) {
        self.maxConnections = max(1, maxConnections)
        self.maxIdlePerEndpoint = max(0, maxIdlePerEndpoint)
        self.maxIdleAge = maxIdleAge
    }

    /// Connections open now (in use and idle), for tests and metrics.
    var openCount: Int { state.withLock { $0.openCount } }
    var idleCount: Int { state.withLock { $0.idle.values.reduce(0) { $0 + $1.count } } }

    /// An idle connection to `endpoint` to reuse, or nil: the caller opens a new one in the
    /// slot reserved for it. Throws `timedOut` if no slot frees up by `deadline`.
    func acquire(_ endpoint: String, by deadline: Deadline) async throws(HTTPClientError) -> HTTPClientConnection? {
        var stale: [HTTPClientConnection] = []
        let immediate = state.withLock { s in grant(endpoint, in: &s, closing: &stale) }
        stale.forEach { $0.close() }
        if let immediate { return immediate.connection }

        let id = state.withLock { s in
            s.lastWaiterID += 1; return s.lastWaiterID
        }
        let timer = Task { [weak self] in
            while !deadline.hasPassed {
                let seconds = min(deadline.remaining, 3600) // an endless timeout must not overflow the sleep
                do { try await Task.sleep(nanoseconds: UInt64(seconds * 1e9) + 1_000_000) } catch { return }
            }
            self?.expireWaiter(id, deadline: deadline)
        }
        defer { timer.cancel() }
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<HTTPClientConnection?, HTTPClientError>, Never>) in
            var stale: [HTTPClientConnection] = []
            let granted: Result<HTTPClientConnection?, HTTPClientError>? = state.withLock { s in
                // Check again under the lock: a slot may have freed up since the first look.
                if let grant = grant(endpoint, in: &s, closing: &stale) { return .success(grant.connection) }
                // The timer only expires waiters once the deadline has passed: past it, do not wait.
                if deadline.hasPassed { return .failure(Self.noSlot(maxConnections, within: deadline)) }
                s.waiters.append(Waiter(id: id, endpoint: endpoint, continuation: continuation))
                return nil
            }
            stale.forEach { $0.close() }
            if let granted { continuation.resume(returning: granted) }
        }
        return try result.get()
    }

    /// Gives back what `acquire` handed out: the connection used (nil if none could be opened).
    /// A reusable one goes to the first waiter if it wants the same endpoint, else is kept idle
    /// when nobody waits; any other is closed and its slot goes to the next waiter.
    func release(_ connection: HTTPClientConnection?, endpoint: String) {
        var closing: [HTTPClientConnection] = []
        let handOffs: [(Waiter, HTTPClientConnection?)] = state.withLock { s in
            var handOffs: [(Waiter, HTTPClientConnection?)] = []
            pruneIdle(endpoint, in: &s, closing: &closing)
            if let connection, connection.isReusable, let first = s.waiters.first, first.endpoint == endpoint {
                // Straight to the first waiter, which wants this very endpoint.
                handOffs.append((s.waiters.removeFirst(), connection))
            } else if let connection, connection.isReusable, s.waiters.isEmpty, maxIdlePerEndpoint > 0 {
                connection.idleSince = MonotonicClock.seconds()
                s.idle[endpoint, default: []].append(connection)
                if let list = s.idle[endpoint], list.count > maxIdlePerEndpoint {
                    closing.append(list[0])
                    s.idle[endpoint]?.removeFirst()
                    s.openCount -= 1
                }
            } else {
                if let connection { closing.append(connection) }
                s.openCount -= 1
            }
            // Every free slot goes to a waiter, which opens a connection of its own in it.
            while s.openCount < maxConnections, !s.waiters.isEmpty {
                s.openCount += 1
                handOffs.append((s.waiters.removeFirst(), nil))
            }
            return handOffs
        }
        closing.forEach { $0.close() }
        for (waiter, connection) in handOffs { waiter.continuation.resume(returning: .success(connection)) }
    }

    // MARK: - under the lock

    /// A reusable idle connection, or a slot for a new one (closing an idle connection to
    /// another endpoint if that is the only way), or nil when the caller must wait.
    private func grant(_ endpoint: String, in s: inout State, closing: inout [HTTPClientConnection]) -> Grant? {
        pruneIdle(endpoint, in: &s, closing: &closing)
        // The most recently used first: the others age out.
        while let candidate = s.idle[endpoint]?.popLast() {
            if candidate.looksAlive { return .reuse(candidate) }
            closing.append(candidate)
            s.openCount -= 1
        }
        if s.openCount < maxConnections {
            s.openCount += 1
            return .open
        }
        if let other = s.idle.first(where: { !$0.value.isEmpty })?.key, let oldest = s.idle[other]?.first {
            s.idle[other]?.removeFirst()
            closing.append(oldest) // its slot becomes the caller's
            return .open
        }
        return nil
    }

    /// Closes idle connections to `endpoint` that have been idle too long.
    private func pruneIdle(_ endpoint: String, in s: inout State, closing: inout [HTTPClientConnection]) {
        let now = MonotonicClock.seconds()
        while let oldest = s.idle[endpoint]?.first, now - oldest.idleSince > maxIdleAge {
            s.idle[endpoint]?.removeFirst()
            closing.append(oldest)
            s.openCount -= 1
        }
    }

    private func expireWaiter(_ id: Int, deadline: Deadline) {
        let expired: Waiter? = state.withLock { s in
            guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return s.waiters.remove(at: index)
        }
        expired?.continuation.resume(returning: .failure(Self.noSlot(maxConnections, within: deadline)))
    }

    private static func noSlot(_ limit: Int, within deadline: Deadline) -> HTTPClientError {
        .timedOut("no free connection within \(deadline.seconds) s (all \(limit) in use)")
    }
}
