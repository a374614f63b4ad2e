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
