/// One `field-name ":" OWS field-value OWS` line of an HTTP/1 head (RFC 9112 §5): the field
/// grammar of every HTTP/1 parser here (the server's requests, the clients' answers and the
/// WebSocket handshake), so both sides accept and refuse the same lines.
public struct HTTPFieldLine {
    /// Where the name and the value (without surrounding white space) lie in the line.
    public let name: Range<Int>
    public let value: Range<Int>
    /// Whether the value has bytes of 0x80 and above (not plain ASCII).
    public let valueHasHighBytes: Bool

    /// Checks `line` (without its line ending). Obsolete line folding is refused here: a caller
    /// that must accept it (a client, RFC 9112 §5.2) joins a folded line itself first.
    @inlinable
    public init(parsing line: UnsafeBufferPointer<UInt8>) throws(HTTPFieldLineError) {
        let count = line.count
        guard count > 0 else { throw .emptyName }
        if line[0] == HTTPByte.space || line[0] == HTTPByte.tab { throw .folded }
        var index = 0
        while index < count, line[index] != UInt8(ascii: ":") {
            let byte = line[index]
            if !HTTPByte.isToken(byte) {
                if byte == HTTPByte.space || byte == HTTPByte.tab { throw .whitespaceInName }
                if byte == HTTPByte.cr { throw .bareCR }
                throw .invalidNameCharacter
            }
            index += 1
        }
        if index == count { throw .noColon }
        if index == 0 { throw .emptyName }
        name = 0..<index
        index += 1
        while index < count, line[index] == HTTPByte.space || line[index] == HTTPByte.tab { index += 1 }
        var end = count
        while end > index, line[end - 1] == HTTPByte.space || line[end - 1] == HTTPByte.tab { end -= 1 }
        var highBytes = false
        for position in index..<end where line[position] < 0x20 || line[position] >= 0x7F {
            switch line[position] {
            case HTTPByte.tab: continue
            case 0: throw .nul
            case HTTPByte.cr: throw .bareCR
            case 0x7F, 0..<0x20: throw .controlCharacter
            default: highBytes = true
            }
        }
        value = index..<end
        valueHasHighBytes = highBytes
    }

    /// The name as text (a token: ASCII).
    @inlinable
    public func name(in line: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: line[name]), as: UTF8.self)
    }

    /// The value as text: UTF-8 when it is, else ISO-8859-1 (where each byte is the code point
    /// of the same number), so no byte is lost or replaced.
    @inlinable
    public func value(in line: UnsafeBufferPointer<UInt8>) -> String {
        let bytes = UnsafeBufferPointer(rebasing: line[value])
        if !valueHasHighBytes { return String(decoding: bytes, as: UTF8.self) }
        if let utf8 = String(validating: bytes, as: UTF8.self) { return utf8 }
        return String(decoding: bytes.lazy.map { UInt16($0) }, as: UTF16.self)
    }
}

/// Why a field line was refused; `description` is what a 400 or an error message says.
public enum HTTPFieldLineError: Error, Equatable, Sendable, CustomStringConvertible {
    case folded, whitespaceInName, bareCR, invalidNameCharacter, noColon, emptyName, nul, controlCharacter

    public var description: String {
        switch self {
        case .folded: "obsolete line folding in header section"
        case .whitespaceInName: "whitespace in or after a header field name"
        case .bareCR: "bare CR in header section"
        case .invalidNameCharacter: "invalid character in header field name"
        case .noColon: "header field without a colon"
        case .emptyName: "empty header field name"
        case .nul: "NUL in header field value"
        case .controlCharacter: "control character in header field value"
        }
    }
}
