import HTTPCore
import Testing

@Suite struct HTTPStatusTests {
    @Test func namedStatusesCarryTheirStandardReason() {
        #expect(HTTPStatus.ok.description == "200 OK")
        #expect(HTTPStatus.switchingProtocols.reason == "Switching Protocols")
        #expect(HTTPStatus.contentTooLarge.reason == "Content Too Large")
        #expect(HTTPStatus.gatewayTimeout.reason == "Gateway Timeout")
        #expect(HTTPStatus(418, "I'm a teapot").reason == "I'm a teapot")
    }

    @Test func theTableNamesKnownCodesOnly() {
        #expect(HTTPStatus.knownReason(404) == "Not Found")
        #expect(HTTPStatus.knownReason(418) == nil)
        #expect(HTTPStatus.standardReason(418) == "Status 418")
        #expect(HTTPStatus(599).reason == "Status 599")
    }

    @Test func bodylessStatuses() {
        #expect(!HTTPStatus.continue.allowsBody)
        #expect(!HTTPStatus.noContent.allowsBody)
        #expect(!HTTPStatus.notModified.allowsBody)
        #expect(HTTPStatus.ok.allowsBody)
        #expect(HTTPStatus.notFound.allowsBody)
    }

    @Test func methodsAndVersions() {
        #expect(HTTPMethod("GET") == .GET)
        #expect(HTTPMethod(rawValue: "PROPFIND").description == "PROPFIND")
        #expect(HTTPVersion.http1_1.description == "HTTP/1.1")
        #expect(HTTPVersion.http2.description == "HTTP/2")
    }
}
