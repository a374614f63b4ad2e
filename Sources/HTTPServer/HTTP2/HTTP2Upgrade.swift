import HTTPCore

/// HTTP/1.1 `Upgrade: h2c` (RFC 7540 §3.2): recognising the request, decoding its
/// `HTTP2-Settings`, and the `101 Switching Protocols` that precedes the server's preface.
enum HTTP2Upgrade {
    static let switchingProtocols: [UInt8] = Array(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n".utf8)

    /// The decoded SETTINGS payload when `request` asks for h2c properly, else nil (the request
    /// is then answered over HTTP/1.1, as if the Upgrade header were absent).
    static func settingsPayload(of request: HTTPRequest) -> [UInt8]? {
        guard request.version == .http1_1,
            request.headers.tokens("Upgrade").contains("h2c"),
            request.headers.tokens("Connection").contains("http2-settings")
        else { return nil }
        let values = request.headers.values("HTTP2-Settings")
        guard values.count == 1 else { return nil }
        return base64URLDecode(values[0].trimmingHTTPWhitespace())
    }

    /// base64url without padding (RFC 4648 §5), as HTTP2-Settings carries it; nil when malformed.
    static func base64URLDecode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for c in text.utf8 {
            let value: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            case UInt8(ascii: "="): continue // tolerated although the spec omits padding
            default: return nil
            }
            accumulator = (accumulator << 6) | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // A SETTINGS payload is a whole number of 6-byte entries.
        return out.count % 6 == 0 ? out : nil
    }
}

/// Recognises a client speaking HTTP/2 by prior knowledge: its first 24 bytes are the connection
/// preface (RFC 9113 §3.4), which no HTTP/1.x request can start with.
enum HTTP2Preface {
    static let bytes: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    enum Verdict { case http2, http1, undecided }

    /// The verdict on the first bytes of a connection (`prefix` may be shorter than the preface).
    static func classify(_ prefix: some Collection<UInt8>) -> Verdict {
        for (index, byte) in prefix.prefix(bytes.count).enumerated() where byte != bytes[index] {
            return .http1
        }
        return prefix.count >= bytes.count ? .http2 : .undecided
    }
}
