import Foundation
import HTTPCore
import Testing

@testable import HTTPServer

@Suite("Router")
struct RouterTests {
    private func request(_ method: HTTPMethod, _ target: String) -> HTTPRequest {
        HTTPRequest(head: HTTPRequestHead(method: method, target: target, headers: ["Host": "x"]))
    }

    private func immediate(_ result: HTTPResponderResult) -> HTTPResponse? {
        if case .now(let response) = result { return response }
        return nil
    }

    @Test func matchesParametersPercentDecoded() throws {
        let response = try #require(immediate(TestServer.router.respond(to: request(.GET, "/items/a%20b?x=1"))))
        #expect(String(decoding: bodyBytes(response), as: UTF8.self) == "item a b")
    }

    @Test func unknownPathIs404Problem() throws {
        let response = try #require(immediate(TestServer.router.respond(to: request(.GET, "/nope"))))
        #expect(response.status == .notFound)
        #expect(response.headers["Content-Type"] == "application/problem+json")
    }

    @Test func wrongMethodIs405WithAllow() throws {
        let response = try #require(immediate(TestServer.router.respond(to: request(.PUT, "/items/1"))))
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"] == "GET, DELETE, HEAD")
        let options = try #require(immediate(TestServer.router.respond(to: request(.OPTIONS, "/items/1"))))
        #expect(options.status == .noContent)
        #expect(options.headers["Allow"]?.contains("DELETE") == true)
    }

    /// The application maps its own errors once, for every route; what it does not know is a 500.
    @Test func errorsAreMappedByTheErrorHookInOnePlace() throws {
        struct Unavailable: Error {}
        struct Unknown: Error {}
        var router = Router()
        router.add(.GET, "/down", .sync { _ in throw Unavailable() })
        router.add(.GET, "/broken", .sync { _ in throw Unknown() })
        router.errorMapper = { error in
            error is Unavailable ? HTTPError(.serviceUnavailable, "the upstream is down") : nil
        }
        let down = try #require(immediate(router.respond(to: request(.GET, "/down"))))
        #expect(down.status == .serviceUnavailable)
        #expect(String(decoding: bodyBytes(down), as: UTF8.self).contains("the upstream is down"))
        #expect(try #require(immediate(router.respond(to: request(.GET, "/broken")))).status == .internalServerError)
    }

    @Test func headUsesGetRoutes() throws {
        let response = try #require(immediate(TestServer.router.respond(to: request(.HEAD, "/hello"))))
        #expect(response.status == .ok)
    }

    @Test func emptyParameterDoesNotMatch() throws {
        let response = try #require(immediate(TestServer.router.respond(to: request(.GET, "/items/"))))
        #expect(response.status == .notFound)
    }

    @Test func absoluteFormTargetRoutesByPath() throws {
        let response = try #require(immediate(TestServer.router.respond(to: request(.GET, "http://example.com/hello"))))
        #expect(response.status == .ok)
    }

    @Test func queryItemsDecode() {
        let items = request(.GET, "/x?a=1&b=two+words&c=%C3%A9&d").queryItems
        #expect(items.map(\.name) == ["a", "b", "c", "d"])
        #expect(items.map(\.value) == ["1", "two words", "é", ""])
    }

    private func bodyBytes(_ response: HTTPResponse) -> [UInt8] {
        if case .bytes(let bytes) = response.body { return bytes }
        return []
    }
}
