import HTTPCore
import Synchronization

/// What the server tells its access observer about one answered request, once its response is
/// out: for a plain body when it is queued on the connection, for a streamed body (server-sent
/// events, downloads) when the stream ends, however it ends.
public struct HTTPAccessRecord: Sendable {
    public var method: String
    /// The route's pattern (`/v1/runs/{id}`), `static` for the fallback's files, `unmatched`
    /// when nothing matched, `-` when the request was refused before it could be routed.
    public var route: String
    public var status: Int
    /// Body bytes sent (queued on the connection; for a stream, what its producer wrote).
    public var bytes: Int
    /// From the request being decoded in full to its response queued (or its stream ended).
    public var durationNanoseconds: UInt64
    public var requestID: String
    /// The name of the API key that made the request, when one was accepted (never the key).
    public var user: String?
    /// Why the request was refused or failed (the problem document's detail), when it was.
    public var reason: String?
    public var version: HTTPVersion
    public var streamed: Bool

    public var durationSeconds: Double { Double(durationNanoseconds) / 1e9 }
}

/// What routing and the application learned about a request, carried on its response to the
/// access observer (never sent).
public struct HTTPAccessNotes: Sendable {
    public var route: String?
    public var user: String?
    public var reason: String?

    public init(route: String? = nil, user: String? = nil, reason: String? = nil) {
        self.route = route
        self.user = user
        self.reason = reason
    }
}

/// An error a route throws on behalf of a known caller: answered as `underlying` would be, with
/// the caller's name on the access line.
public struct HTTPAttributedError: Error, Sendable {
    public var underlying: any Error
    public var user: String?

    public init(_ underlying: any Error, user: String?) {
        self.underlying = underlying
        self.user = user
    }
}

/// `X-Request-Id`: the client's, when it is a sane token, else one made here.
public enum HTTPRequestID {
    public static let headerName = "X-Request-Id"
    static let maxLength = 128
    /// Random per process, so ids of two runs of the gateway do not collide.
    private static let prefix: String = {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }()
    private static let counter = Atomic<UInt64>(0)

    /// The client's id when it is 1 to 128 visible ASCII characters, else a new one.
    public static func accept(_ offered: String?) -> String {
        if let offered, isSane(offered) { return offered }
        return make()
    }

    public static func isSane(_ value: String) -> Bool {
        var count = 0
        for byte in value.utf8 {
            guard byte > 0x20, byte < 0x7F else { return false }
            count += 1
            if count > maxLength { return false }
        }
        return count > 0
    }

    /// A new id: the process's random prefix and a sequence number (unique, cheap).
    public static func make() -> String {
        let number = counter.add(1, ordering: .relaxed).newValue
        return prefix + "-" + String(number, radix: 16)
    }
}

/// A request being answered: what its access record needs from before the response.
struct HTTPAccessStart {
    var method: String
    var requestID: String
    var start: UInt64
    var version: HTTPVersion
    /// Set once the response is known; for a stream, `bytes` grows as it is written.
    var response: (status: Int, notes: HTTPAccessNotes)?
    var bytes = 0

    init(method: String, requestID: String, version: HTTPVersion, start: UInt64 = MonotonicClock.now()) {
        self.method = method
        self.requestID = requestID
        self.version = version
        self.start = start
    }

    /// Before any request could be read (a malformed or late one): an id made here.
    static func unrouted(version: HTTPVersion) -> HTTPAccessStart {
        HTTPAccessStart(method: "-", requestID: HTTPRequestID.make(), version: version)
    }

    func record(streamed: Bool, now: UInt64 = MonotonicClock.now()) -> HTTPAccessRecord {
        HTTPAccessRecord(
            method: method, route: response?.notes.route ?? "-", status: response?.status ?? 0, bytes: bytes,
            durationNanoseconds: now >= start ? now - start : 0, requestID: requestID, user: response?.notes.user,
            reason: response?.notes.reason, version: version, streamed: streamed)
    }
}
