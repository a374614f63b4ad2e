/// Encodes frames and decodes them incrementally from a byte stream (RFC 6455 §5).
///
/// Decoding is strict: reserved bits (no extensions are negotiated), unknown opcodes,
/// fragmented or oversized control frames, non-minimal 64-bit lengths with the top bit set,
/// and frames over `maxFramePayload` are protocol errors. A client decodes with
/// `expectMasked: false` (servers must not mask); the test fake server uses `true`.
public struct WebSocketFrameCodec: Sendable {
    public let maxFramePayload: Int
    public let expectMasked: Bool
    private var buffer: [UInt8] = []
    private var readIndex = 0

    public init(maxFramePayload: Int, expectMasked: Bool) {
        self.maxFramePayload = maxFramePayload
        self.expectMasked = expectMasked
    }

    /// Bytes received but not yet consumed by a whole frame.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ pointer: UnsafeRawBufferPointer) {
        append(pointer.bindMemory(to: UInt8.self))
    }

    /// The next complete frame, or nil when more bytes are needed.
    public mutating func nextFrame() throws(WebSocketError) -> WebSocketFrame? {
        let available = buffer.count - readIndex
        guard available >= 2 else { return nil }
        let first = buffer[readIndex], second = buffer[readIndex + 1]
        if first & 0x70 != 0 {
            throw .protocolViolation("reserved bits set (no extension was negotiated)", closeCode: 1002)
        }
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else {
            throw .protocolViolation("unknown opcode \(first & 0x0F)", closeCode: 1002)
        }
        let fin = first & 0x80 != 0
        let masked = second & 0x80 != 0
        if masked != expectMasked {
            throw .protocolViolation(
                masked ? "masked frame from the server" : "unmasked frame from the client", closeCode: 1002)
        }
        var headerLength = 2
        var length = UInt64(second & 0x7F)
        if length == 126 {
            guard available >= 4 else { return nil }
            length = UInt64(buffer[readIndex + 2]) << 8 | UInt64(buffer[readIndex + 3])
            headerLength = 4
        } else if length == 127 {
            guard available >= 10 else { return nil }
            length = 0
            for i in 2..<10 { length = length << 8 | UInt64(buffer[readIndex + i]) }
            if length >> 63 != 0 { throw .protocolViolation("64-bit length with the top bit set", closeCode: 1002) }
            headerLength = 10
        }
        if opcode.isControl {
            if !fin { throw .protocolViolation("fragmented control frame", closeCode: 1002) }
            if length > 125 { throw .protocolViolation("control frame payload of \(length) bytes", closeCode: 1002) }
        }
        if length > UInt64(maxFramePayload) {
            throw .protocolViolation(
                "frame of \(length) bytes exceeds the limit of \(maxFramePayload)", closeCode: 1009)
        }
        let maskLength = masked ? 4 : 0
        let total = headerLength + maskLength + Int(length)
        guard available >= total else { return nil }
        let payloadStart = readIndex + headerLength + maskLength
        var payload = Array(buffer[payloadStart..<(payloadStart + Int(length))])
        if masked {
            let keyStart = readIndex + headerLength
            let key = (buffer[keyStart], buffer[keyStart + 1], buffer[keyStart + 2], buffer[keyStart + 3])
            Self.applyMask(key, to: &payload)
        }
        readIndex += total
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        return WebSocketFrame(fin: fin, opcode: opcode, payload: payload)
    }

    /// The wire bytes of `frame`; with a `mask` key the payload is masked (clients must mask).
    public static func encode(_ frame: WebSocketFrame, mask: (UInt8, UInt8, UInt8, UInt8)?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(frame.payload.count + 14)
        out.append((frame.fin ? 0x80 : 0) | frame.opcode.rawValue)
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        let count = frame.payload.count
        if count < 126 {
            out.append(maskBit | UInt8(count))
        } else if count <= 0xFFFF {
            out.append(maskBit | 126)
            out.append(UInt8(count >> 8))
            out.append(UInt8(count & 0xFF))
        } else {
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: UInt64(count) >> UInt64(shift)))
            }
        }
        if let mask {
            out += [mask.0, mask.1, mask.2, mask.3]
            var payload = frame.payload
            applyMask(mask, to: &payload)
            out += payload
        } else {
            out += frame.payload
        }
        return out
    }

    static func applyMask(_ key: (UInt8, UInt8, UInt8, UInt8), to bytes: inout [UInt8]) {
        let k = [key.0, key.1, key.2, key.3]
        bytes.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices { buffer[i] ^= k[i & 3] }
        }
    }

    /// A random masking key (RFC 6455 §5.3: unpredictable per frame).
    public static func randomMask() -> (UInt8, UInt8, UInt8, UInt8) {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt32
        return (
            UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8),
            UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 24)
        )
    }
}
