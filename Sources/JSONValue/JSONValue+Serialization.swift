/// Compact JSON text, written directly as UTF-8 bytes (no JSONEncoder round trip): one line,
/// object keys sorted so the same value always gives the same bytes (ETags, digests, SSE lines).
extension JSONValue {
    public var compactJSON: String { String(decoding: compactJSONBytes, as: UTF8.self) }

    public var compactJSONBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(to: &out)
        return out
    }

    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: Self.append("null", to: &out)
        case .bool(let value): Self.append(value ? "true" : "false", to: &out)
        case .int(let value): out.append(contentsOf: String(value).utf8)
        case .double(let value):
            // JSON has no NaN or infinity; null is what JSON.stringify writes for them.
            if value.isFinite {
                if value == value.rounded(), abs(value) < 1e15 {
                    out.append(contentsOf: String(Int64(value)).utf8)
                    Self.append(".0", to: &out)
                } else {
                    out.append(contentsOf: "\(value)".utf8)
                }
            } else {
                Self.append("null", to: &out)
            }
        case .string(let value): Self.writeString(value, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            var first = true
            fields.forEachSortedByKey { key, value in
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                Self.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func append(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// A JSON string: quotes, backslashes and control characters escaped, and U+2028/U+2029 too
    /// (JavaScript before ES2019 took them for line ends).
    public static func writeString(_ value: String, to out: inout [UInt8]) {
        var value = value
        value.withUTF8 { bytes in
            out.append(UInt8(ascii: "\""))
            // Runs of bytes that need no escape are copied in one go.
            var run = 0
            var i = 0
            while i < bytes.count {
                let byte = bytes[i]
                let escape: StaticString?
                switch byte {
                case UInt8(ascii: "\""): escape = "\\\""
                case UInt8(ascii: "\\"): escape = "\\\\"
                case 0x0A: escape = "\\n"
                case 0x0D: escape = "\\r"
                case 0x09: escape = "\\t"
                case ..<0x20: escape = "" // \u00XX below
                case 0xE2
                where i + 2 < bytes.count && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9):
                    // U+2028 and U+2029 (E2 80 A8, E2 80 A9).
                    escape = bytes[i + 2] == 0xA8 ? "\\u2028" : "\\u2029"
                default: escape = nil
                }
                guard let escape else { i += 1; continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i]))
                if escape.utf8CodeUnitCount == 0 {
                    append("\\u00", to: &out)
                    out.append(UInt8(ascii: "0") + byte >> 4) // 0 or 1
                    out.append(byte & 0xF < 10 ? UInt8(ascii: "0") + byte & 0xF : UInt8(ascii: "a") - 10 + byte & 0xF)
                    i += 1
                } else {
                    append(escape, to: &out)
                    i += byte == 0xE2 ? 3 : 1
                }
                run = i
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<bytes.count]))
            out.append(UInt8(ascii: "\""))
        }
    }
}
