import Foundation
import Testing

@testable import InvokeAI

@Suite struct WebSocketFrameCodecTests {
    private func roundTrip(_ frame: WebSocketFrame, masked: Bool) throws -> (wire: [UInt8], decoded: WebSocketFrame?) {
        let wire = WebSocketFrameCodec.encode(frame, mask: masked ? (0x12, 0x34, 0x56, 0x78) : nil)
        var codec = WebSocketFrameCodec(maxFramePayload: 1 << 20, expectMasked: masked)
        codec.append(wire)
        return (wire, try codec.nextFrame())
    }

    @Test(arguments: [0, 1, 125, 126, 127, 65535, 65536, 70000])
    func lengthEncodings(count: Int) throws {
        let payload = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let (wire, decoded) = try roundTrip(WebSocketFrame(opcode: .binary, payload: payload), masked: true)
        #expect(decoded == WebSocketFrame(opcode: .binary, payload: payload))
        let lengthByte = wire[1] & 0x7F
        if count < 126 {
            #expect(lengthByte == UInt8(count))
            #expect(wire.count == 2 + 4 + count)
        } else if count <= 65535 {
            #expect(lengthByte == 126)
            #expect(Int(wire[2]) << 8 | Int(wire[3]) == count)
            #expect(wire.count == 4 + 4 + count)
        } else {
            #expect(lengthByte == 127)
            #expect(wire.count == 10 + 4 + count)
            #expect(wire[2..<10].reduce(0) { $0 << 8 | Int($1) } == count)
        }
    }

    @Test func clientFramesAreMaskedWithTheKey() {
        let wire = WebSocketFrameCodec.encode(
            WebSocketFrame(opcode: .text, payload: Array("Hello".utf8)), mask: (0x37, 0xFA, 0x21, 0x3D))
        // RFC 6455 §5.7: a masked "Hello".
        #expect(wire == [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    @Test func unmaskedServerFrameFromTheRFC() throws {
        var codec = WebSocketFrameCodec(maxFramePayload: 1000, expectMasked: false)
        codec.append([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        #expect(try codec.nextFrame() == WebSocketFrame(opcode: .text, payload: Array("Hello".utf8)))
        #expect(try codec.nextFrame() == nil)
    }

    @Test func decodesByteByByteAndSeveralFramesInOneRead() throws {
        let a = WebSocketFrameCodec.encode(WebSocketFrame(opcode: .text, payload: Array("first".utf8)), mask: nil)
        let b = WebSocketFrameCodec.encode(WebSocketFrame(opcode: .ping, payload: [1, 2]), mask: nil)
        let c = WebSocketFrameCodec.encode(
            WebSocketFrame(opcode: .binary, payload: [UInt8](repeating: 9, count: 300)), mask: nil)
        var codec = WebSocketFrameCodec(maxFramePayload: 1000, expectMasked: false)
        var frames: [WebSocketFrame] = []
        for byte in a + b + c {
            codec.append([byte])
            while let frame = try codec.nextFrame() { frames.append(frame) }
        }
        #expect(frames.map(\.opcode) == [.text, .ping, .binary])
        #expect(frames[2].payload.count == 300)
        codec.append(a + b + c)
        var again = 0
        while try codec.nextFrame() != nil { again += 1 }
        #expect(again == 3)
        #expect(codec.bufferedByteCount == 0)
    }

    @Test func maskedFrameFromServerIsRefused() {
        var codec = WebSocketFrameCodec(maxFramePayload: 1000, expectMasked: false)
        codec.append(WebSocketFrameCodec.encode(WebSocketFrame(opcode: .text, payload: [65]), mask: (1, 2, 3, 4)))
        #expect(throws: WebSocketError.self) { try codec.nextFrame() }
    }

    @Test(arguments: [3, 4, 5, 6, 7, 0xB, 0xC, 0xF] as [UInt8])
    func unknownOpcodesAreProtocolErrors(opcode: UInt8) {
        var codec = WebSocketFrameCodec(maxFramePayload: 1000, expectMasked: false)
        codec.append([0x80 | opcode, 0x00])
        #expect(throws: WebSocketError.protocolViolation("unknown opcode \(opcode)", closeCode: 1002)) {
            try codec.nextFrame()
        }
    }

    @Test func reservedBitsAreProtocolErrors() {
        for bits: UInt8 in [0x40, 0x20, 0x10] {
            var codec = WebSocketFrameCodec(maxFramePayload: 1000, expectMasked: false)
            codec.append([0x80 | bits | 0x1, 0x00])
            #expect(throws: WebSocketError.self) { try codec.nextFrame() }
        }
    }

    @Test func controlFramesMustBeShortAndUnfragmented() {
        var long = WebSocketFrameCodec(maxFramePayload: 1000, expectMasked: false)
        long.append(
            WebSocketFrameCodec.encode(
                WebSocketFrame(opcode: .ping, payload: [UInt8](repeating: 0, count: 126)), mask: nil))
        #expect(throws: WebSocketError.self) { try long.nextFrame() }
        var fragmented = WebSocketFrameCodec(maxFramePayload: 1000, expectMasked: false)
        fragmented.append([0x09, 0x00]) // ping without FIN
        #expect(throws: WebSocketError.self) { try fragmented.nextFrame() }
    }

    @Test func oversizeFrameIsRefusedFromItsHeaderAlone() {
        var codec = WebSocketFrameCodec(maxFramePayload: 100, expectMasked: false)
        codec.append([0x82, 126, 0x01, 0x00]) // announces 256 bytes, none sent
        #expect(
            throws: WebSocketError.protocolViolation("frame of 256 bytes exceeds the limit of 100", closeCode: 1009)
        ) {
            try codec.nextFrame()
        }
        var huge = WebSocketFrameCodec(maxFramePayload: 100, expectMasked: false)
        huge.append([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]) // top bit set
        #expect(throws: WebSocketError.self) { try huge.nextFrame() }
    }

    @Test func incompleteFrameWaitsForMoreBytes() throws {
        var codec = WebSocketFrameCodec(maxFramePayload: 1 << 20, expectMasked: false)
        let wire = WebSocketFrameCodec.encode(
            WebSocketFrame(opcode: .binary, payload: [UInt8](repeating: 1, count: 70000)), mask: nil)
        codec.append(wire.prefix(5))
        #expect(try codec.nextFrame() == nil)
        codec.append(wire.dropFirst(5).prefix(1000))
        #expect(try codec.nextFrame() == nil)
        codec.append(wire.dropFirst(1005))
        #expect(try codec.nextFrame()?.payload.count == 70000)
    }

    @Test func closeFrameCarriesCodeAndReason() {
        let frame = WebSocketFrame.close(code: 1001, reason: "going away")
        #expect(frame.payload == [0x03, 0xE9] + Array("going away".utf8))
        #expect(WebSocketFrame.close(code: 1000, reason: String(repeating: "x", count: 300)).payload.count == 125)
    }

    @Test func acceptValueMatchesTheRFCExample() {
        #expect(WebSocketClient.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }
}
