import Testing

@testable import HTTPServer

@Suite struct HTTPResponseEncoderTests {
    @Test(arguments: [1, 9, 10, 15, 16, 255, 256, 4096, 65535, 70000])
    func aChunkIsFramedWithItsSizeInHex(size: Int) {
        var out: [UInt8] = []
        HTTPResponseEncoder.appendChunk(to: &out, [UInt8](repeating: 0x61, count: size))
        let head = String(decoding: out.prefix { $0 != 13 }, as: UTF8.self)
        #expect(head == String(size, radix: 16))
        #expect(out.count == head.utf8.count + 2 + size + 2)
        #expect(out.suffix(2) == [13, 10])
    }

    @Test func anEmptyWriteAddsNoChunk() {
        var out: [UInt8] = []
        HTTPResponseEncoder.appendChunk(to: &out, [])
        #expect(out.isEmpty)
    }
}
