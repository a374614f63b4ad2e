import Foundation
import HTTPServer

/// `/openapi.json`: the API contract, read from openapi/ at start-up.
enum OpenAPIRoutes {
    static func add(to router: inout Router, documentPath: String?) throws {
        guard let documentPath else { return }
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: documentPath)))
        router.add(
            .GET, "/openapi.json",
            .sync { _ in
                HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], bytes: bytes)
            })
    }
}
