import HTTPCore
import Testing

@Suite struct HTTPResponseHeadTests {
    @Test func statusLine() throws {
        let head = try HTTPResponseHead(statusLine: "HTTP/1.1 404 Not Found")
        #expect(head.version == "HTTP/1.1")
        #expect(head.status == 404)
        #expect(head.reason == "Not Found")
        #expect(try HTTPResponseHead(statusLine: "HTTP/1.0 200").reason == "")
    }

    @Test(arguments: ["", "HTTP/2 200 OK", "HTTP/1.1 20 OK", "HTTP/1.1 abc", "ICY 200 OK", "HTTP/1.1 099 Low"])
    func malformedStatusLines(line: String) {
        #expect(throws: HTTPResponseHeadError.invalidStatusLine(line)) { try HTTPResponseHead(statusLine: line) }
    }

    @Test func fieldLinesWithFoldingAndRepeats() throws {
        var head = try HTTPResponseHead(statusLine: "HTTP/1.1 200 OK")
        try head.addField(line: "Content-Type:  text/plain ")
        try head.addField(line: "X-Long: one")
        try head.addField(line: "\t two")
        try head.addField(line: "x-long: three")
        #expect(head.value(of: "content-type") == "text/plain")
        #expect(head.value(of: "X-LONG") == "one two, three")
        #expect(head.value(of: "Absent") == nil)
        #expect(throws: HTTPResponseHeadError.invalidFieldLine("No colon")) { try head.addField(line: "No colon") }
        #expect(throws: HTTPResponseHeadError.invalidFieldLine("Bad Name: x")) {
            try head.addField(line: "Bad Name: x")
        }
        #expect(throws: HTTPResponseHeadError.invalidFieldLine(": x")) { try head.addField(line: ": x") }
    }

    @Test func answerFieldsFollowTheGrammarRequestsDo() throws {
        // The one field grammar (HTTPFieldLine): what the server refuses in a request, the
        // clients refuse in an answer.
        var head = try HTTPResponseHead(statusLine: "HTTP/1.1 200 OK")
        let refused: [[UInt8]] = [
            Array("X: a".utf8) + [0] + Array("b".utf8), Array("X: a".utf8) + [1], Array("X : b".utf8),
            Array("X: a\rb".utf8), Array("X\u{7F}: b".utf8),
        ]
        for line in refused {
            #expect(throws: HTTPResponseHeadError.invalidFieldLine(String(decoding: line, as: UTF8.self))) {
                try head.addField(bytes: line)
            }
        }
        // Not UTF-8: each byte is read as ISO-8859-1, none lost.
        try head.addField(bytes: Array("Latin: caf".utf8) + [0xE9])
        #expect(head.value(of: "latin") == "caf\u{E9}")
        var line: [UInt8] = Array("Name: value".utf8)
        let field = try line.withUnsafeMutableBufferPointer { try HTTPFieldLine(parsing: UnsafeBufferPointer($0)) }
        #expect(field.name == 0..<4 && field.value == 6..<11)
        line = Array(" folded".utf8)
        #expect(throws: HTTPFieldLineError.folded) {
            try line.withUnsafeBufferPointer { try HTTPFieldLine(parsing: $0) }
        }
    }

    @Test func wholeHeadWithCRLFOrBareLF() throws {
        let crlf = try HTTPResponseHead(
            parsing: Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n".utf8))
        #expect(crlf.status == 101)
        #expect(crlf.reason == "Switching Protocols")
        #expect(crlf.headers.count == 2)
        #expect(crlf.value(of: "upgrade") == "websocket")
        let lf = try HTTPResponseHead(parsing: Array("HTTP/1.1 200 OK\nA: 1".utf8))
        #expect(lf.value(of: "a") == "1")
        #expect(throws: HTTPResponseHeadError.invalidStatusLine("")) { try HTTPResponseHead(parsing: [UInt8]()) }
    }

    @Test func keepAlive() throws {
        func head(_ version: String, _ connection: String?) throws -> HTTPResponseHead {
            var head = try HTTPResponseHead(statusLine: "\(version) 200 OK")
            if let connection { try head.addField(line: "Connection: \(connection)") }
            return head
        }
        #expect(try head("HTTP/1.1", nil).keepsAlive)
        #expect(try !head("HTTP/1.1", "Close").keepsAlive)
        #expect(try !head("HTTP/1.0", nil).keepsAlive)
        #expect(try head("HTTP/1.0", "Keep-Alive").keepsAlive)
        #expect(try !head("HTTP/1.0", "keep-alive, close").keepsAlive)
    }
}
