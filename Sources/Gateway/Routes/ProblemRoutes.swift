import Digests
import Foundation
import HTTPCore
import HTTPServer

/// `/problems/{slug}`: the page of each kind of problem a `type` names (RFC 9457 suggests the
/// type's URI say what it means). Open, like the API contract; the same text as the README's
/// table and the OpenAPI document's `x-problem-types`.
enum ProblemRoutes {
    static func add(to router: inout AccessRouter) {
        var pages: [String: (bytes: [UInt8], etag: String)] = [:]
        for type in ProblemType.all {
            let bytes = Array(page(type).utf8)
            pages[type.slug] = (bytes, "\"" + String(SHA256.hex(bytes).prefix(32)) + "\"")
        }
        router.add(
            .GET, "/problems/{slug}",
            .sync { [pages] request, _ in
                let slug = request.pathParameters["slug"] ?? ""
                guard let page = pages[slug] else {
                    throw HTTPError(.notFound, "no problem type '\(slug)'; the README lists them")
                }
                // They change only with the binary.
                let headers: HTTPHeaders = ["ETag": page.etag, "Cache-Control": "max-age=86400"]
                if let match = request.headers["If-None-Match"], StaticFiles.matches(match, etag: page.etag) {
                    return HTTPResponse(status: .notModified, headers: headers)
                }
                var response = HTTPResponse(status: .ok, headers: headers, bytes: page.bytes)
                response.headers["Content-Type"] = "text/html; charset=utf-8"
                return response
            })
    }

    static func page(_ type: ProblemType) -> String {
        let statuses = type.statuses.map(String.init).joined(separator: ", ")
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(type.title))</title></head>
            <body><h1>\(escape(type.title))</h1>
            <p><code>\(escape(type.uri))</code>\(statuses.isEmpty ? "" : " &middot; status \(statuses)")</p>
            <p>\(escape(type.summary))</p>
            <p>A problem document of this type (<code>application/problem+json</code>, RFC 9457) carries <code>type</code>,
            <code>title</code>, <code>status</code>, <code>detail</code> and <code>instance</code>.</p>
            </body></html>

            """
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
