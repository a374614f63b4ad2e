import Testing

@testable import InvokeAI

@Suite struct WebSocketMessageAssemblerTests {
    @Test func joinsFragmentsWithControlFramesBetween() throws {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 100)
        #expect(try assembler.push(WebSocketFrame(fin: false, opcode: .text, payload: Array("Hel".utf8))) == nil)
        #expect(try assembler.push(WebSocketFrame(opcode: .ping, payload: [7])) == .ping([7]))
        #expect(
            try assembler.push(WebSocketFrame(fin: false, opcode: .continuation, payload: Array("lo, ".utf8))) == nil)
        #expect(try assembler.push(WebSocketFrame(opcode: .pong, payload: [])) == .pong([]))
        #expect(
            try assembler.push(WebSocketFrame(opcode: .continuation, payload: Array("world".utf8)))
                == .text("Hello, world"))
        // and it is ready for the next message
        #expect(try assembler.push(WebSocketFrame(opcode: .binary, payload: [1, 2])) == .binary([1, 2]))
    }

    @Test func textSplitInsideAMultibyteCharacterIsFine() throws {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 100)
        let bytes = Array("€uro".utf8)
        #expect(try assembler.push(WebSocketFrame(fin: false, opcode: .text, payload: Array(bytes[0..<1]))) == nil)
        #expect(try assembler.push(WebSocketFrame(opcode: .continuation, payload: Array(bytes[1...]))) == .text("€uro"))
    }

    @Test func continuationWithoutStartIsRefused() {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 100)
        #expect(throws: WebSocketError.self) { try assembler.push(WebSocketFrame(opcode: .continuation, payload: [1])) }
    }

    @Test func newDataFrameInsideFragmentedMessageIsRefused() throws {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 100)
        _ = try assembler.push(WebSocketFrame(fin: false, opcode: .text, payload: [65]))
        #expect(throws: WebSocketError.self) { try assembler.push(WebSocketFrame(opcode: .text, payload: [66])) }
    }

    @Test func oversizeMessageIsRefusedAcrossFragments() throws {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 10)
        _ = try assembler.push(WebSocketFrame(fin: false, opcode: .binary, payload: [UInt8](repeating: 0, count: 6)))
        #expect(throws: WebSocketError.protocolViolation("message over 10 bytes", closeCode: 1009)) {
            try assembler.push(WebSocketFrame(opcode: .continuation, payload: [UInt8](repeating: 0, count: 6)))
        }
        var single = WebSocketMessageAssembler(maxMessageBytes: 10)
        #expect(throws: WebSocketError.self) {
            try single.push(WebSocketFrame(opcode: .text, payload: [UInt8](repeating: 65, count: 11)))
        }
    }

    @Test func invalidUTF8TextIsRefusedWith1007() {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 10)
        #expect(throws: WebSocketError.protocolViolation("text message is not UTF-8", closeCode: 1007)) {
            try assembler.push(WebSocketFrame(opcode: .text, payload: [0xC3, 0x28]))
        }
    }

    @Test func closeCodes() throws {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 10)
        #expect(try assembler.push(WebSocketFrame(opcode: .close)) == .close(code: nil, reason: ""))
        #expect(try assembler.push(.close(code: 1000, reason: "bye")) == .close(code: 1000, reason: "bye"))
        #expect(try assembler.push(.close(code: 4000)) == .close(code: 4000, reason: ""))
        for bad: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
            #expect(throws: WebSocketError.self) { try assembler.push(.close(code: bad)) }
        }
        #expect(throws: WebSocketError.self) { try assembler.push(WebSocketFrame(opcode: .close, payload: [0x03])) }
        #expect(throws: WebSocketError.self) {
            try assembler.push(WebSocketFrame(opcode: .close, payload: [0x03, 0xE8, 0xFF]))
        }
    }
}
