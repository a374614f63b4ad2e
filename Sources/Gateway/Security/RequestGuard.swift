import HTTPCore
import HTTPServer

/// What a browser must not be able to do to a gateway it can reach, checked before routing:
/// a request under a `Host` (HTTP/2: `:authority`) the gateway does not answer to is refused with
/// 421 (DNS rebinding: a page on attacker.example whose name now points at 127.0.0.1); a mutating
/// request that a browser sent from another origin is refused with 403 (`Origin` neither the
/// request's own nor a CORS origin, or `Sec-Fetch-Site: cross-site`). Requests without these
/// headers (curl, services) pass. Every answer gets the security headers (`SecurityHeaders`).
struct RequestGuard: HTTPResponder {
    let next: Router
    let hosts: AllowedHosts
    let cors: CORSPolicy
    let refusals: RefusalCounters

    func respond(to request: HTTPRequest) -> HTTPResponderResult {
        if let refusal = refusal(of: request) {
            return .now(SecurityHeaders.add(to: refusal.response(instance: request.path)))
        }
        switch next.respond(to: request) {
        case .now(let response):
            return .now(SecurityHeaders.add(to: response))
        case .later(let body):
            return .later { SecurityHeaders.add(to: await body()) }
        }
    }

    func refusal(of request: HTTPRequest) -> HTTPError? {
        // The harness and load balancers probe liveness under whatever name they use; it tells nothing.
        if request.path == "/healthz" { return nil }
        if let host = request.headers["Host"], !hosts.allows(host) {
            refusals.host.add(1, ordering: .relaxed)
            return HTTPError(
                .misdirectedRequest,
                "this gateway does not answer to the host name '\(host)'; its operator can allow it with --allowed-host",
                type: .unknownHost)
        }
        guard [.POST, .PUT, .PATCH, .DELETE].contains(request.method) else { return nil }
        let origin = request.headers["Origin"]
        if let origin, cors.allowedOrigins.contains(origin) || cors.allowedOrigins.contains("*") { return nil }
        let crossSite = request.headers["Sec-Fetch-Site"]?.lowercased() == "cross-site"
        let foreignOrigin = origin.map { !Self.isOwnOrigin($0, host: request.headers["Host"]) } ?? false
        guard crossSite || foreignOrigin else { return nil }
        refusals.crossSite.add(1, ordering: .relaxed)
        return HTTPError(
            .forbidden,
            "a \(request.method) from another site (Origin \(origin ?? "not sent")) is not allowed; its operator can allow an origin with --cors-origin",
            type: .crossSiteRequest)
    }

    /// `http://<Host>` or `https://<Host>` (behind a TLS proxy), exactly: the page's own origin.
    static func isOwnOrigin(_ origin: String, host: String?) -> Bool {
        guard let host = host?.lowercased() else { return false }
        let origin = origin.lowercased()
        return origin == "http://" + host || origin == "https://" + host
    }
}
