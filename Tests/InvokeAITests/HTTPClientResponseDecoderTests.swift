import Foundation
import Testing

@testable import InvokeAI

/// The client's answer decoder without sockets: fed whole or one byte at a time, it must reach
/// the same head, body and end.
struct HTTPClientResponseDecoderTests {
    private struct Decoded: Equatable {
        var status: Int
        var framing: HTTPClientResponseDecoder.Framing
        var body: String
        var ended: Bool
        var leftover: Int
    }

    private static func decode(
        _ text: String, expectsNoBody: Bool = false, chunkSize: Int, endOfInput: Bool = false
    ) throws -> Decoded {
        var decoder = HTTPClientResponseDecoder(expectsNoBody: expectsNoBody, maxHeadBytes: 1024)
        let bytes = Array(text.utf8)
        var body: [UInt8] = []
        var status = 0
        var framing = HTTPClientResponseDecoder.Framing.none
        var ended = false
        var offset = 0
        func drain() throws {
            while let event = try decoder.next(body: { body.append(contentsOf: $0) }) {
                switch event {
                case .head(let head, let f):
                    status = head.status
                    framing = f
                case .end:
                    ended = true
                    return
                }
            }
        }
        while offset < bytes.count, !ended {
            let end = min(offset + chunkSize, bytes.count)
            bytes[offset..<end].withUnsafeBytes { decoder.feed($0) }
            offset = end
            try drain()
        }
        if endOfInput, !ended, case .end = try decoder.endOfInput() { ended = true }
        return Decoded(
            status: status, framing: framing, body: String(decoding: body, as: UTF8.self), ended: ended,
            leftover: decoder.leftoverByteCount + (bytes.count - offset))
    }

    private static let answers: [(String, Decoded)] = [
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            Decoded(status: 200, framing: .length(5), body: "hello", ended: true, leftover: 0)
        ),
        (
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
            Decoded(status: 201, framing: .length(2), body: "ok", ended: true, leftover: 0)
        ),
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=\"v\"\r\nhello\r\n1\r\n!\r\n0\r\nX-T: 1\r\n\r\n",
            Decoded(status: 200, framing: .chunked, body: "hello!", ended: true, leftover: 0)
        ),
        (
            "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
            Decoded(status: 204, framing: .none, body: "", ended: true, leftover: 0)
        ),
        (
            "HTTP/1.0 200 OK\nContent-Length: 3\n\nabcEXTRA",
            Decoded(status: 200, framing: .length(3), body: "abc", ended: true, leftover: 5)
        ),
    ]

    @Test(arguments: [1, 3, 1024])
    func answersDecodeAlikeWhateverTheReadSizes(chunkSize: Int) throws {
        for (text, expected) in Self.answers {
            #expect(try Self.decode(text, chunkSize: chunkSize) == expected, "\(text.debugDescription)")
        }
    }

    @Test func aBodyFramedByTheCloseEndsAtEndOfInput() throws {
        let text = "HTTP/1.1 200 OK\r\n\r\nuntil close"
        let open = try Self.decode(text, chunkSize: 4)
        #expect(open.body == "until close" && !open.ended)
        let closed = try Self.decode(text, chunkSize: 4, endOfInput: true)
        #expect(closed == Decoded(status: 200, framing: .untilClose, body: "until close", ended: true, leftover: 0))
    }

    @Test func aHeadAnswerHasNoBodyWhateverItsLength() throws {
        let decoded = try Self.decode(
            "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", expectsNoBody: true, chunkSize: 7)
        #expect(decoded == Decoded(status: 200, framing: .none, body: "", ended: true, leftover: 0))
    }

    @Test func cutAnswersSayWhetherAnyByteArrived() throws {
        var fresh = HTTPClientResponseDecoder(expectsNoBody: false, maxHeadBytes: 1024)
        #expect(throws: HTTPClientError.connectionClosed(beforeAnyResponseByte: true)) { try fresh.endOfInput() }
        #expect(throws: HTTPClientError.connectionClosed(beforeAnyResponseByte: false)) {
            _ = try Self.decode("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", chunkSize: 2, endOfInput: true)
        }
    }

    @Test func malformedAnswersAreRefused() {
        let malformed = [
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\n\r\n",
            "NOT HTTP\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 2000) + "\r\n\r\n",
        ]
        for text in malformed {
            #expect(throws: HTTPClientError.self, "\(text.prefix(60).debugDescription)") {
                _ = try Self.decode(text, chunkSize: 5)
            }
        }
    }
}
