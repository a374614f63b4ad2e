import Foundation
import TestSupport
import Testing

@testable import HTTPServer

@Suite("Static files", .ownThread)
struct StaticFilesTests {
    /// The content of the file outside the folder: the marker that must never appear in an answer.
    static let secretContent = "TOP-SECRET-7f3a91"

    /// A temporary tree: public/ with files and links, and a secret beside it.
    final class Tree {
        let base: URL
        let publicDirectory: URL

        init() throws {
            base = FileManager.default.temporaryDirectory.appendingPathComponent("static-\(UUID().uuidString)")
            publicDirectory = base.appendingPathComponent("public")
            let fm = FileManager.default
            try fm.createDirectory(
                at: publicDirectory.appendingPathComponent("docs"), withIntermediateDirectories: true)
            try "<h1>status</h1>".write(
                to: publicDirectory.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
            try "body{}".write(to: publicDirectory.appendingPathComponent("app.css"), atomically: true, encoding: .utf8)
            try "console.log(1)".write(
                to: publicDirectory.appendingPathComponent("app.js"), atomically: true, encoding: .utf8)
            try "docs".write(
                to: publicDirectory.appendingPathComponent("docs/index.html"), atomically: true, encoding: .utf8)
            try StaticFilesTests.secretContent.write(
                to: base.appendingPathComponent("secret.txt"), atomically: true, encoding: .utf8)
            try fm.createSymbolicLink(
                atPath: publicDirectory.appendingPathComponent("escape.txt").path,
                withDestinationPath: base.appendingPathComponent("secret.txt").path)
            try fm.createSymbolicLink(
                atPath: publicDirectory.appendingPathComponent("escape-dir").path, withDestinationPath: base.path)
            try fm.createSymbolicLink(
                atPath: publicDirectory.appendingPathComponent("inside.css").path,
                withDestinationPath: publicDirectory.appendingPathComponent("app.css").path)
        }

        deinit { try? FileManager.default.removeItem(at: base) }
    }

    private func withStaticServer(_ body: @escaping @Sendable (Int) throws -> Void) async throws {
        let tree = try Tree()
        var router = TestServer.router
        router.fallback = try StaticFiles(root: tree.publicDirectory.path).handler
        try await TestServer.with(router) { server in
            let port = server.port
            try await blocking { try body(port) }
        }
        _ = tree
    }

    private func get(_ client: TestSocket, _ target: String, headers: String = "", method: String = "GET") throws
        -> TestSocket.Response
    {
        try client.send("\(method) \(target) HTTP/1.1\r\nHost: x\r\n\(headers)\r\n")
        return try client.readResponse(head: method == "HEAD")
    }

    @Test func servesFilesWithContentTypes() async throws {
        try await withStaticServer { port in
            let client = try TestSocket(port: port)
            let index = try get(client, "/")
            #expect(index.status == 200)
            #expect(index.text == "<h1>status</h1>")
            #expect(index.header("Content-Type") == "text/html; charset=utf-8")
            #expect(try get(client, "/app.css").header("Content-Type") == "text/css; charset=utf-8")
            #expect(try get(client, "/app.js").header("Content-Type") == "text/javascript; charset=utf-8")
            #expect(try get(client, "/docs/").text == "docs")
            let redirect = try get(client, "/docs")
            #expect(redirect.status == 301)
            #expect(redirect.header("Location") == "/docs/")
            #expect(try get(client, "/inside.css").text == "body{}")
            #expect(try get(client, "/missing.txt").status == 404)
        }
    }

    @Test func etagRevalidationAndHead() async throws {
        try await withStaticServer { port in
            let client = try TestSocket(port: port)
            let first = try get(client, "/app.css")
            let etag = try #require(first.header("ETag"))
            let notModified = try get(client, "/app.css", headers: "If-None-Match: \"other\", \(etag)\r\n")
            #expect(notModified.status == 304)
            #expect(notModified.body.isEmpty)
            #expect(try get(client, "/app.css", headers: "If-None-Match: W/\(etag)\r\n").status == 304)
            #expect(try get(client, "/app.css", headers: "If-None-Match: \"stale\"\r\n").status == 200)
            let head = try get(client, "/app.css", method: "HEAD")
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "6")
            #expect(head.header("ETag") == etag)
            // Nothing of a body followed the HEAD: the next answer parses cleanly.
            #expect(try get(client, "/app.js").text == "console.log(1)")
        }
    }

    @Test func ifModifiedSinceWithoutIfNoneMatch() async throws {
        try await withStaticServer { port in
            let client = try TestSocket(port: port)
            let first = try get(client, "/app.css")
            let lastModified = try #require(first.header("Last-Modified"))
            let modified = try #require(HTTPDate.parse(lastModified))
            #expect(HTTPDate.format(secondsSince1970: modified) == lastModified)
            #expect(try get(client, "/app.css", headers: "If-Modified-Since: \(lastModified)\r\n").status == 304)
            let earlier = HTTPDate.format(secondsSince1970: modified - 1)
            #expect(try get(client, "/app.css", headers: "If-Modified-Since: \(earlier)\r\n").status == 200)
            // If-None-Match decides when both are sent (RFC 9110 §13.2.2).
            let both = "If-None-Match: \"stale\"\r\nIf-Modified-Since: \(lastModified)\r\n"
            #expect(try get(client, "/app.css", headers: both).status == 200)
            #expect(try get(client, "/app.css", headers: "If-Modified-Since: yesterday\r\n").status == 200)
        }
    }

    @Test func noWayOutOfTheFolder() async throws {
        let attempts = [
            "/../secret.txt", "/docs/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
            "/docs/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/escape.txt",
            "/escape-dir/secret.txt", "/app.css%00.html", "/.%2e/secret.txt", "/%252e%252e/secret.txt",
        ]
        try await withStaticServer { port in
            for target in attempts {
                let client = try TestSocket(port: port)
                let response = try get(client, target)
                #expect([400, 404].contains(response.status), "\(target) answered \(response.status)")
                #expect(!response.text.contains(Self.secretContent), "\(target) leaked the file")
            }
        }
    }

    @Test func safeRelativePathDecodesSegmentsAlone() {
        #expect(StaticFiles.safeRelativePath("/a/b%20c.txt") == "a/b c.txt")
        #expect(StaticFiles.safeRelativePath("/a/%2e%2e/b") == nil)
        #expect(StaticFiles.safeRelativePath("/a%2fb") == nil)
        #expect(StaticFiles.safeRelativePath("/a/./b") == nil)
        #expect(StaticFiles.safeRelativePath("/%zz") == nil)
        #expect(StaticFiles.safeRelativePath("/") == "")
    }

    @Test func otherMethodsAre405() async throws {
        try await withStaticServer { port in
            let client = try TestSocket(port: port)
            try client.send("POST /app.css HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 404 || response.status == 405)
        }
    }
}
