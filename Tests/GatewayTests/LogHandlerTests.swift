import Foundation
import Logging
import Synchronization
import Testing

@testable import Gateway

/// The operations log's handler: text and JSON lines, escaping, one line per message, and the
/// writer's batching.
@Suite struct LogHandlerTests {
    /// A writer that keeps what it writes; nothing leaves until `flush` (or a warning).
    final class Capture: Sendable {
        let bytes = Mutex<[UInt8]>([])
        let writes = Atomic(0)
        var text: String { bytes.withLock { String(decoding: $0, as: UTF8.self) } }
        var lines: [String] { text.split(separator: "\n").map(String.init) }

        func writer(flushBytes: Int = 64 * 1024) -> LogWriter {
            LogWriter(flushBytes: flushBytes, interval: nil) { batch in
                self.writes.add(1, ordering: .relaxed)
                self.bytes.withLock { $0.append(contentsOf: batch) }
            }
        }
    }

    static func line(_ format: LogFormat, _ message: String, _ metadata: Logger.Metadata, level: Logger.Level = .info)
        -> String
    {
        String(
            decoding: GatewayLogHandler.line(
                format: format, timestamp: "2026-12-07T05:40:04.123Z", level: level, label: "gateway.access",
                message: message, metadata: metadata), as: UTF8.self)
    }

    @Test func textIsOneReadableLineWithKeyValueMetadata() {
        let line = Self.line(
            .text, "GET /healthz 200",
            ["status": .stringConvertible(200), "route": "/healthz", "request_id": "abc", "user": "ci bot"])
        #expect(
            line
                == "2026-12-07T05:40:04.123Z info gateway.access: GET /healthz 200 request_id=abc route=/healthz status=200 user=\"ci bot\"\n"
        )
    }

    @Test func textEscapesLineBreaksQuotesAndEqualsSigns() {
        let line = Self.line(.text, "two\nlines\u{1}", ["reason": "said \"no\"\nthen=left", "empty": ""])
        #expect(line.filter { $0 == "\n" }.count == 1)
        #expect(line.hasSuffix(#": two\nlines\x01 empty="" reason="said \"no\"\nthen=left""# + "\n"))
    }

    @Test func jsonIsOneObjectPerLineWithMetadataAtTheTopLevel() throws {
        let line = Self.line(
            .json, "run r1 \"completed\"\n",
            [
                "status": .stringConvertible(200), "duration_ms": .stringConvertible(1.5),
                "streamed": .stringConvertible(true),
                "run": "r1", "message": "clash", "ts": "clash too", "list": ["a", "b"],
            ], level: .warning)
        #expect(line.hasSuffix("}\n"))
        #expect(line.filter { $0 == "\n" }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["ts"] as? String == "2026-12-07T05:40:04.123Z")
        #expect(object["level"] as? String == "warning")
        #expect(object["label"] as? String == "gateway.access")
        #expect(object["message"] as? String == "run r1 \"completed\"\n")
        #expect(object["status"] as? Int == 200)
        #expect(object["duration_ms"] as? Double == 1.5)
        #expect(object["streamed"] as? Bool == true)
        #expect(object["run"] as? String == "r1")
        #expect(object["list"] as? [String] == ["a", "b"])
        // Metadata named like a field of the line itself keeps its value under `meta.<name>`.
        #expect(object["meta.message"] as? String == "clash")
        #expect(object["meta.ts"] as? String == "clash too")
    }

    @Test func timestampsAreRFC3339InUTCWithMilliseconds() {
        #expect(GatewayLogHandler.timestamp(seconds: 0, milliseconds: 7) == "1970-01-01T00:00:00.007Z")
        #expect(GatewayLogHandler.timestamp(seconds: 1_796_622_004, milliseconds: 123) == "2026-12-07T05:40:04.123Z")
        #expect(GatewayLogHandler.timestamp(seconds: 1_709_251_199, milliseconds: 999) == "2024-02-29T23:59:59.999Z")
        #expect(GatewayLogHandler.timestamp(seconds: 946_598_400, milliseconds: 0) == "1999-12-31T00:00:00.000Z")
        let now = GatewayLogHandler.timestamp()
        #expect(now.count == 24 && now.hasSuffix("Z"))
    }

    @Test func numbersAreWrittenAsDigits() throws {
        #expect(Milliseconds(nanoseconds: 41_000).description == "0.041")
        #expect(Milliseconds(nanoseconds: 1_234_567_890).description == "1234.568")
        #expect(Milliseconds(nanoseconds: 0).description == "0.000")
        let line = Self.line(
            .json, "m",
            ["duration_ms": .stringConvertible(Milliseconds(nanoseconds: 2_500_000)), "n": .stringConvertible(-42)])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["duration_ms"] as? Double == 2.5)
        #expect(object["n"] as? Int == -42)
        #expect(Self.line(.text, "m", ["n": .stringConvertible(1_000_000)]).hasSuffix(" n=1000000\n"))
    }

    @Test func theHandlerWritesThroughTheWriterAtItsLevel() throws {
        let capture = Capture()
        let writer = capture.writer()
        var logger = Logger(label: "gateway.test") {
            GatewayLogHandler(label: $0, format: .json, level: .notice, writer: writer)
        }
        logger[metadataKey: "component"] = "tests"
        logger.info("below the level")
        logger.notice("kept", metadata: ["n": .stringConvertible(3)])
        #expect(capture.text.isEmpty) // a notice waits for the next batch
        logger.warning("urgent")
        #expect(capture.lines.count == 2) // a warning writes itself and what waited
        logger.logLevel = .debug
        logger.debug("now kept")
        writer.flush()
        let objects = try capture.lines.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(objects.map { $0["message"] as? String } == ["kept", "urgent", "now kept"])
        #expect(objects.allSatisfy { $0["component"] as? String == "tests" })
        #expect(objects[0]["n"] as? Int == 3)
    }

    @Test func theWriterWritesInBatchesOnSize() {
        let capture = Capture()
        let writer = capture.writer(flushBytes: 100)
        let line = Array(String(repeating: "x", count: 39).utf8) + [UInt8(ascii: "\n")]
        writer.write(line)
        writer.write(line)
        #expect(capture.writes.load(ordering: .relaxed) == 0)
        writer.write(line) // 120 bytes: past 100
        #expect(capture.writes.load(ordering: .relaxed) == 1)
        #expect(capture.lines.count == 3)
        writer.flush()
        #expect(capture.writes.load(ordering: .relaxed) == 1) // nothing left to write
    }
}
