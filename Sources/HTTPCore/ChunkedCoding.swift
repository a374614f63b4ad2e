/// Chunked transfer coding (RFC 9112 §7.1), the one codec of both sides: the server decodes
/// chunked request bodies and encodes streamed responses; the client decodes chunked answers.
public enum ChunkedCoding {
    /// Why a chunk-size line is malformed.
    public enum SizeLineError: Error, Sendable, Equatable {
        case malformed
        /// A CR not followed by LF inside the line.
        case bareCR
    }

    /// The size of a chunk-size line (`1a;name=value`, without its CRLF), extensions checked
    /// against the grammar and ignored; nil when the size does not fit in `Int`.
    public static func parseSizeLine(_ line: UnsafeBufferPointer<UInt8>) throws(SizeLineError) -> Int? {
        let count = line.count
        func fail(_ index: Int) -> SizeLineError {
            index < count && line[index] == HTTPByte.cr ? .bareCR : .malformed
        }
        var index = 0
        var size: UInt64 = 0
        var significant = 0
        while index < count, let digit = HTTPByte.hexValue(line[index]) {
            if significant > 0 || digit != 0 { significant += 1 }
            if significant <= 16 { size = size << 4 | UInt64(digit) }
            index += 1
        }
        if index == 0 { throw fail(0) }
        // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
        func skipWhitespace() -> Bool {
            let start = index
            while index < count, line[index] == HTTPByte.space || line[index] == HTTPByte.tab { index += 1 }
            return index > start
        }
        while true {
            let spaced = skipWhitespace()
            if index == count {
                if spaced { throw fail(index) } // BWS is only allowed before ";" or "="
                break
            }
            guard line[index] == UInt8(ascii: ";") else { throw fail(index) }
            index += 1
            _ = skipWhitespace()
            let nameStart = index
            while index < count, HTTPByte.isToken(line[index]) { index += 1 }
            if index == nameStart { throw fail(index) }
            let save = index
            _ = skipWhitespace()
            if index < count, line[index] == UInt8(ascii: "=") {
                index += 1
                _ = skipWhitespace()
                if index < count, line[index] == UInt8(ascii: "\"") {
                    index += 1
                    var closed = false
                    while index < count {
                        let byte = line[index]
                        if byte == UInt8(ascii: "\"") { closed = true; index += 1; break }
                        if byte == UInt8(ascii: "\\") {
                            index += 1
                            guard index < count, HTTPByte.isQuotedPair(line[index]) else { throw fail(index) }
                        } else if !HTTPByte.isQuotedText(byte) {
                            throw fail(index)
                        }
                        index += 1
                    }
                    if !closed { throw fail(index) }
                } else {
                    let valueStart = index
                    while index < count, HTTPByte.isToken(line[index]) { index += 1 }
                    if index == valueStart { throw fail(index) }
                }
            } else {
                index = save
            }
        }
        if significant > 16 || size > UInt64(Int.max) { return nil }
        return Int(size)
    }

    /// One chunk of a chunked body (empty input writes nothing: a zero chunk would end the body).
    public static func appendChunk(to out: inout [UInt8], _ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        appendHex(&out, bytes.count)
        out.append(HTTPByte.cr)
        out.append(HTTPByte.lf)
        out.append(contentsOf: bytes)
        out.append(HTTPByte.cr)
        out.append(HTTPByte.lf)
    }

    /// The last chunk and the empty trailer section.
    public static func appendLastChunk(to out: inout [UInt8]) {
        out.append(contentsOf: "0\r\n\r\n".utf8)
    }

    /// The chunk size in lowercase hex, without building a String (once per streamed write).
    private static func appendHex(_ out: inout [UInt8], _ value: Int) {
        let digits: StaticString = "0123456789abcdef"
        var shift = (Int.bitWidth - value.leadingZeroBitCount + 3) / 4 * 4 - 4
        digits.withUTF8Buffer { hex in
            while shift >= 0 {
                out.append(hex[(value >> shift) & 0xf])
                shift -= 4
            }
        }
    }
}

/// Byte classes of HTTP's grammar (RFC 9110 §5.6), shared by the parsers of both sides.
public enum HTTPByte {
    public static let cr = UInt8(ascii: "\r")
    public static let lf = UInt8(ascii: "\n")
    public static let space = UInt8(ascii: " ")
    public static let tab = UInt8(ascii: "\t")

    /// `tchar`: ALPHA, DIGIT and ``!#$%&'*+-.^_`|~``, as two 64-bit masks.
    @inlinable @inline(__always)
    public static func isToken(_ byte: UInt8) -> Bool {
        if byte < 64 { return (0x03FF_6CFA_0000_0000 as UInt64) >> UInt64(byte) & 1 != 0 }
        if byte < 128 { return (0x57FF_FFFF_C7FF_FFFE as UInt64) >> UInt64(byte - 64) & 1 != 0 }
        return false
    }

    @inlinable @inline(__always)
    public static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `qdtext`: HTAB, SP, visible ASCII except `"` and `\`, obs-text.
    @inlinable
    public static func isQuotedText(_ byte: UInt8) -> Bool {
        byte == 0x09 || byte == 0x20 || byte == 0x21 || (byte >= 0x23 && byte <= 0x5B) || (byte >= 0x5D && byte <= 0x7E)
            || byte >= 0x80
    }

    /// The byte after `\` in a `quoted-pair`: HTAB, SP, VCHAR, obs-text.
    @inlinable
    public static func isQuotedPair(_ byte: UInt8) -> Bool {
        byte == 0x09 || byte == 0x20 || (byte >= 0x21 && byte <= 0x7E) || byte >= 0x80
    }
}
