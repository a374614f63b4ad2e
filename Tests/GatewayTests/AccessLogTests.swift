import Foundation
import GatewayTestSupport
import HTTPServer
import Logging
import TestSupport
import Testing

@testable import Gateway

/// The access line and `X-Request-Id` over loopback (InvokeAI down: nothing here needs it), with
/// the operations log captured as JSON.
@Suite(.ownThread) struct AccessLogTests {
    /// A gateway whose operations log goes to `capture` as JSON lines.
    func withLoggedGateway(
        _ capture: LogHandlerTests.Capture, keysFile: String? = nil, _ body: (URL, LogWriter) async throws -> Void
    ) async throws {
        let writer = capture.writer()
        try await GatewayHTTP.withGateway(
            invokeAI: try GatewayHTTP.deadUpstream(),
            configure: {
                $0.followsUpstreamEvents = false
                $0.keysFile = keysFile
                $0.logHandlerFactory = { GatewayLogHandler(label: $0, format: .json, level: .info, writer: writer) }
            }
        ) { base, _ in
            try await body(base, writer)
            writer.flush()
        }
    }

    /// The access lines captured, as objects.
    static func accessLines(_ capture: LogHandlerTests.Capture) throws -> [[String: Any]] {
        try capture.lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            .filter { $0["label"] as? String == "gateway.access" }
    }

    /// The line an access was logged with (each has its own request id).
    static func line(_ lines: [[String: Any]], id: String) throws -> [String: Any] {
        try #require(lines.first { $0["request_id"] as? String == id })
    }

    @Test func aSaneRequestIdIsEchoedAndLoggedWithTheRouteTemplate() async throws {
        let capture = LogHandlerTests.Capture()
        try await withLoggedGateway(capture) { base, _ in
            let answer = try await TestHTTP.send(
                "GET", base.appendingPathComponent("healthz"), headers: ["X-Request-Id": "client-id.42"])
            #expect(answer.status == 200)
            #expect(answer.value(forHTTPHeaderField: "X-Request-Id") == "client-id.42")
            let run = try await TestHTTP.send(
                "GET", base.appendingPathComponent("v1/runs/some-run"), headers: ["X-Request-Id": "run-lookup"])
            #expect(run.value(forHTTPHeaderField: "X-Request-Id") == "run-lookup")
        }
        let lines = try Self.accessLines(capture)
        let health = try Self.line(lines, id: "client-id.42")
        #expect(health["method"] as? String == "GET")
        #expect(health["route"] as? String == "/healthz")
        #expect(health["status"] as? Int == 200)
        #expect(health["bytes"] as? Int == #"{"status":"ok"}"#.utf8.count)
        #expect(health["duration_ms"] is Double)
        #expect(health["protocol"] as? String == "http/1.1")
        #expect(health["message"] as? String == "GET /healthz 200")
        // The template, not the raw path with the id in it.
        #expect(try Self.line(lines, id: "run-lookup")["route"] as? String == "/v1/runs/{id}")
    }

    @Test func anAbsentOrInsaneRequestIdIsReplacedByOneMadeHere() async throws {
        let capture = LogHandlerTests.Capture()
        var made: [String] = []
        try await withLoggedGateway(capture) { base, _ in
            let plain = try await TestHTTP.send("GET", base.appendingPathComponent("healthz"))
            let long = try await TestHTTP.send(
                "GET", base.appendingPathComponent("healthz"),
                headers: ["X-Request-Id": String(repeating: "a", count: 129)])
            let spaced = try await TestHTTP.send(
                "GET", base.appendingPathComponent("healthz"), headers: ["X-Request-Id": "two words"])
            made = [plain, long, spaced].compactMap { $0.value(forHTTPHeaderField: "X-Request-Id") }
        }
        #expect(made.count == 3)
        #expect(Set(made).count == 3)
        #expect(made.allSatisfy { HTTPRequestID.isSane($0) && $0 != "two words" && $0.count < 129 })
        let lines = try Self.accessLines(capture)
        for id in made { #expect(try Self.line(lines, id: id)["route"] as? String == "/healthz") }
        #expect(HTTPRequestID.isSane(String(repeating: "a", count: 128)))
        #expect(!HTTPRequestID.isSane(String(repeating: "a", count: 129)))
        #expect(!HTTPRequestID.isSane(""))
        #expect(!HTTPRequestID.isSane("caf\u{E9}"))
    }

    @Test func problemDocumentsCarryTheIdAndTheAccessLineSaysWhy() async throws {
        let capture = LogHandlerTests.Capture()
        try await withLoggedGateway(capture) { base, _ in
            let missing = try await TestHTTP.send(
                "GET", base.appendingPathComponent("no/such/thing"), headers: ["X-Request-Id": "missing-1"])
            #expect(missing.status == 404)
            #expect(missing.value(forHTTPHeaderField: "X-Request-Id") == "missing-1")
            #expect(missing.value(forHTTPHeaderField: "Content-Type") == "application/problem+json")
            let misdirected = try await blocking {
                let socket = try TestSocket(port: base.port!)
                defer { socket.close() }
                try socket.send("GET /v1/workflows HTTP/1.1\r\nHost: evil.example\r\nX-Request-Id: host-1\r\n\r\n")
                return try socket.readResponse()
            }
            #expect(misdirected.status == 421)
            #expect(misdirected.value(forHTTPHeaderField: "X-Request-Id") == "host-1")
        }
        let lines = try Self.accessLines(capture)
        let missing = try Self.line(lines, id: "missing-1")
        #expect(missing["route"] as? String == "unmatched")
        #expect(missing["level"] as? String == "info")
        let refused = try Self.line(lines, id: "host-1")
        #expect(refused["level"] as? String == "notice")
        #expect((refused["reason"] as? String)?.contains("evil.example") == true)
    }

    @Test func aMalformedRequestIsAnsweredWithAnIdAndLogged() async throws {
        let capture = LogHandlerTests.Capture()
        var id: String?
        try await withLoggedGateway(capture) { base, _ in
            let answer = try await blocking {
                let socket = try TestSocket(port: base.port!)
                defer { socket.close() }
                try socket.send(Array("GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".utf8))
                return try socket.readResponse()
            }
            #expect(answer.status == 400)
            id = answer.value(forHTTPHeaderField: "X-Request-Id")
        }
        let line = try Self.line(Self.accessLines(capture), id: try #require(id))
        #expect(line["status"] as? Int == 400)
        #expect(line["route"] as? String == "-")
        #expect(line["level"] as? String == "notice")
    }

    @Test func theKeyNameIsLoggedAndTheKeyNever() async throws {
        let keys = try AccessRoutesTests.makeKeys()
        let capture = LogHandlerTests.Capture()
        try await withLoggedGateway(capture, keysFile: keys.path) { base, _ in
            let listed = try await TestHTTP.send(
                "GET", base.appendingPathComponent("v1/runs"),
                headers: ["Authorization": "Bearer \(keys.teamA)", "X-Request-Id": "keyed", "Cookie": "session=s3cr3t"])
            #expect(listed.status == 200)
            let other = try await TestHTTP.send(
                "GET", base.appendingPathComponent("v1/runs/not-here"),
                headers: ["X-API-Key": keys.readerA, "X-Request-Id": "keyed-404"])
            #expect(other.status == 503) // InvokeAI is down: the lookup's error, mapped

            let wrong = try await TestHTTP.send(
                "GET", base.appendingPathComponent("v1/runs"),
                headers: ["Authorization": "Bearer \(keys.teamA)x", "X-Request-Id": "unknown-key"])
            #expect(wrong.status == 401)
        }
        let text = capture.text
        #expect(!text.isEmpty)
        for secret in [keys.teamA, keys.readerA, String(keys.teamA.prefix(12)), "s3cr3t"] {
            #expect(!text.contains(secret))
        }
        let lines = try Self.accessLines(capture)
        #expect(try Self.line(lines, id: "keyed")["user"] as? String == "a")
        // A thrown answer (here InvokeAI's failure, mapped to 503) still names its caller.
        #expect(try Self.line(lines, id: "keyed-404")["user"] as? String == "a-reader")
        let refused = try Self.line(lines, id: "unknown-key")
        #expect(refused["user"] == nil)
        #expect(refused["level"] as? String == "notice")
        #expect(refused["status"] as? Int == 401)
    }

    @Test func requestsShowInTheDurationHistogramWithBuildAndProcessFamilies() async throws {
        let capture = LogHandlerTests.Capture()
        var text = ""
        try await withLoggedGateway(capture) { base, _ in
            for _ in 0..<3 { _ = try await TestHTTP.send("GET", base.appendingPathComponent("healthz")) }
            _ = try await TestHTTP.send("DELETE", base.appendingPathComponent("healthz"))
            _ = try await TestHTTP.send("GET", base.appendingPathComponent("no/such/thing"))
            text = try await TestHTTP.send("GET", base.appendingPathComponent("metrics")).text
        }
        let labels = #"method="GET",route="/healthz",status_class="2xx""#
        #expect(text.contains("# TYPE gateway_http_request_duration_seconds histogram"))
        let count = text.split(separator: "\n").first {
            $0.hasPrefix("gateway_http_request_duration_seconds_count{") && $0.contains(#"route="/healthz""#)
                && $0.contains(#"method="GET""#) && $0.contains(#"status_class="2xx""#)
        }
        #expect(count.map { $0.hasSuffix(" 3") } == true, "\(labels) counted 3 times in:\n\(text)")
        // The DELETE (405) under its route's template; the unknown path as `unmatched`.
        #expect(text.contains(#"route="/healthz",method="DELETE",status_class="4xx""#), "\(text)")
        #expect(text.contains(#"route="unmatched",method="GET",status_class="4xx""#))
        #expect(text.contains("gateway_build_info{"))
        #expect(text.contains(#"version="\#(BuildInfo.version)""#))
        for family in [
            "process_resident_memory_bytes", "process_open_fds", "process_cpu_seconds_total",
            "process_start_time_seconds",
            "process_max_fds", "gateway_runs{status=\"queued\"} 0",
        ] {
            #expect(text.contains("\n" + family), "\(family) missing")
        }
    }

    @Test func anEventStreamIsLoggedWhenItEnds() async throws {
        let capture = LogHandlerTests.Capture()
        try await withLoggedGateway(capture) { base, writer in
            let head = try await blocking {
                let socket = try TestSocket(port: base.port!)
                defer { socket.close() } // the client goes: the stream ends
                try socket.send("GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: sse-1\r\n\r\n")
                let head = try socket.readHead()
                _ = try socket.readChunk() // the stream's first bytes are out
                return head
            }
            #expect(head.status == 200)
            #expect(head.value(forHTTPHeaderField: "X-Request-Id") == "sse-1")
            try await eventually {
                writer.flush()
                return capture.text.contains("sse-1")
            }
        }
        let line = try Self.line(Self.accessLines(capture), id: "sse-1")
        #expect(line["route"] as? String == "/v1/events")
        #expect(line["streamed"] as? Bool == true)
        #expect((line["bytes"] as? Int ?? 0) > 0) // at least the chunk read
    }

    @Test func anHTTP2RequestIsEchoedAndLogged() async throws {
        let capture = LogHandlerTests.Capture()
        var output = ""
        try await withLoggedGateway(capture) { base, _ in
            output = try await blocking {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
                process.arguments = [
                    "30", "curl", "-sS", "-i", "--http2-prior-knowledge", "-H", "X-Request-Id: h2-1",
                    "\(base)/healthz",
                ]
                let out = Pipe()
                process.standardOutput = out
                process.standardError = FileHandle.nullDevice
                try process.run()
                let data = out.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return String(decoding: data, as: UTF8.self)
            }
        }
        #expect(output.hasPrefix("HTTP/2 200"), "\(output)")
        #expect(output.lowercased().contains("x-request-id: h2-1"))
        let line = try Self.line(Self.accessLines(capture), id: "h2-1")
        #expect(line["protocol"] as? String == "h2")
        #expect(line["route"] as? String == "/healthz")
        #expect(line["status"] as? Int == 200)
    }
}
