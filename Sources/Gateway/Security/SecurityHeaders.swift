import HTTPServer

/// Headers every answer carries so a browser neither frames it, sniffs another type into it,
/// nor leaks the gateway's URLs in `Referer`; and `Cache-Control: no-store` on every answer
/// that does not state its own caching (the API's answers are dynamic and a tenant's own; the
/// few that may be kept say so: images, the static files, `/openapi.json`, workflow details). The status page (static files) gets a content
/// security policy that fits it (its own script, styles and images, previews as `data:` URLs,
/// fetch and EventSource to the gateway only; no inline script, no other site); everything else
/// the strictest one, since no answer of the API is a page.
enum SecurityHeaders {
    static let pagePolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
        + "font-src 'self'; manifest-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    static let apiPolicy = "default-src 'none'; frame-ancestors 'none'; sandbox"

    /// `response` with the headers it does not set itself (the static files set the page policy).
    static func add(to response: HTTPResponse) -> HTTPResponse {
        var response = response
        let headers = response.headers
        if !headers.contains("Content-Security-Policy") {
            response.headers.add("Content-Security-Policy", apiPolicy)
        }
        if !headers.contains("X-Content-Type-Options") { response.headers.add("X-Content-Type-Options", "nosniff") }
        if !headers.contains("X-Frame-Options") { response.headers.add("X-Frame-Options", "DENY") }
        if !headers.contains("Referrer-Policy") { response.headers.add("Referrer-Policy", "no-referrer") }
        if !headers.contains("Cache-Control") { response.headers.add("Cache-Control", "no-store") }
        return response
    }
}
