/// The message schedule input SHA-1 and SHA-256 share (FIPS 180-4 §5.1.1, §5.2.1): the message
/// padded with a 1 bit, zeros and its length in bits (big-endian) to whole 64-byte blocks, each
/// block handed to `body` as its 16 big-endian 32-bit words.
func forEachBlock(of message: [UInt8], _ body: ([UInt32]) -> Void) {
    var padded = message
    padded.append(0x80)
    while padded.count % 64 != 56 { padded.append(0) }
    let bitLength = UInt64(message.count) &* 8
    for shift in stride(from: 56, through: 0, by: -8) {
        padded.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
    }
    var words = [UInt32](repeating: 0, count: 16)
    for block in stride(from: 0, to: padded.count, by: 64) {
        for i in 0..<16 {
            let j = block + i * 4
            words[i] =
                UInt32(padded[j]) << 24 | UInt32(padded[j + 1]) << 16 | UInt32(padded[j + 2]) << 8
                | UInt32(padded[j + 3])
        }
        body(words)
    }
}

/// The digest's state words as bytes, big-endian.
func bigEndianBytes(_ words: [UInt32]) -> [UInt8] {
    words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (24 - 8 * UInt32($0))) } }
}
