import Foundation
import HTTPServer
import Synchronization

/// Resolves the caller of each request and refuses what its key may not do: 401 without a key
/// in force, 403 naming the missing scope. Keys come from `Authorization: Bearer <key>` or
/// `X-API-Key: <key>` and are never logged or echoed. Without a key ring every caller is the
/// anonymous admin (loopback without `--keys-file`: behaves as before keys existed).
public struct AccessPolicy: Sendable {
    public let keyRing: KeyRing?
    /// Requests refused, by reason (for `/metrics`).
    public let refusals = Refusals()
    let limiter = RateLimiter()

    public init(keyRing: KeyRing?) { self.keyRing = keyRing }

    public final class Refusals: Sendable {
        /// 401: no key, or one not in force.
        public let unauthenticated = Atomic(0)
        /// 403: a key without the scope.
        public let forbidden = Atomic(0)
        /// 429: over the key's requests per second.
        public let rateLimited = Atomic(0)
        /// 429: a submission over the tenant's concurrent runs.
        public let concurrentRuns = Atomic(0)

        var prometheusText: String {
            """
            # HELP gateway_access_refused_total Requests refused by the access check, by reason.
            # TYPE gateway_access_refused_total counter
            gateway_access_refused_total{reason="unauthenticated"} \(unauthenticated.load(ordering: .relaxed))
            gateway_access_refused_total{reason="forbidden"} \(forbidden.load(ordering: .relaxed))
            gateway_access_refused_total{reason="rate_limited"} \(rateLimited.load(ordering: .relaxed))
            gateway_access_refused_total{reason="concurrent_runs"} \(concurrentRuns.load(ordering: .relaxed))

            """
        }
    }

    public static let realm = "invokeai-gateway"

    /// The caller, or a 401 problem.
    public func caller(of request: HTTPRequest) throws(HTTPError) -> Caller {
        guard let keyRing else { return .anonymous }
        guard let presented = Self.presentedKey(request) else {
            refusals.unauthenticated.add(1, ordering: .relaxed)
            throw Self.unauthorized(
                "this gateway needs an API key: send Authorization: Bearer <key> (or X-API-Key: <key>)")
        }
        guard let key = keyRing.authenticate(presented) else {
            refusals.unauthenticated.add(1, ordering: .relaxed)
            throw Self.unauthorized("the API key is not known or was revoked")
        }
        if let rate = key.record.requestsPerSecond, let wait = limiter.take(key: key.record.id, perSecond: rate) {
            refusals.rateLimited.add(1, ordering: .relaxed)
            throw HTTPError(
                .tooManyRequests, "this API key may make \(Self.format(rate)) request(s) per second",
                type: .rateLimited,
                headers: ["Retry-After": String(max(1, Int(wait.rounded(.up))))])
        }
        return Caller(key)
    }

    /// A submission over the caller's concurrent runs: 429 (`running` runs of its tenant not ended).
    func checkConcurrentRuns(_ caller: Caller, running: Int) throws(HTTPError) {
        guard let limit = caller.maxConcurrentRuns, running >= limit else { return }
        refusals.concurrentRuns.add(1, ordering: .relaxed)
        throw HTTPError(
            .tooManyRequests,
            "this API key's tenant has \(running) run(s) not ended; its limit is \(limit) at once",
            type: .tooManyRuns, headers: ["Retry-After": "5"])
    }

    private static func format(_ rate: Double) -> String {
        rate == rate.rounded() ? String(Int(rate)) : String(rate)
    }

    /// The caller when it has `scope`; 401 or 403 otherwise.
    public func caller(of request: HTTPRequest, needing scope: Scope) throws(HTTPError) -> Caller {
        let resolved = try self.caller(of: request)
        guard resolved.has(scope) else {
            refusals.forbidden.add(1, ordering: .relaxed)
            throw HTTPError(
                .forbidden,
                "this API key lacks the '\(scope.rawValue)' scope needed for \(request.method) \(request.path)",
                type: .missingScope, extensions: ["missing_scope": .string(scope.rawValue)])
        }
        return resolved
    }

    static func presentedKey(_ request: HTTPRequest) -> String? {
        if let authorization = request.headers["Authorization"] {
            let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let key = parts[1].trimmingCharacters(in: .whitespaces)
                if !key.isEmpty { return key }
            }
        }
        return request.headers["X-API-Key"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static func unauthorized(_ detail: String) -> HTTPError {
        HTTPError(.unauthorized, detail, headers: ["WWW-Authenticate": "Bearer realm=\"\(realm)\""])
    }
}
