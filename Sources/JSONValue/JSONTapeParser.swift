/// The strict RFC 8259 grammar, recording each value as a `JSONTapeEntry` (kind and byte range)
/// instead of building it: no allocation per value, strings and numbers left in place. Checks
/// everything a tree parser would (escapes, surrogate pairs, UTF-8, control characters, nesting
/// up to `FastJSONParser.maxDepth`), so a tape that exists is valid JSON.
struct JSONTapeParser {
    typealias Error = FastJSONParser.Error

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0
    private(set) var tape: [JSONTapeEntry] = []

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        tape.reserveCapacity(bytes.count / 8 + 16)
    }

    mutating func parseDocument() throws(Error) {
        guard bytes.count < Int(UInt32.max) else { throw fail("document larger than 4 GiB") }
        skipWhitespace()
        try parseValue()
        skipWhitespace()
        if index != bytes.count { throw fail("trailing characters") }
    }

    private func fail(_ message: String) -> Error { Error(message: message, offset: index) }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(Error) {
        guard index < bytes.count else { throw fail("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"): try parseContainer(.object)
        case UInt8(ascii: "["): try parseContainer(.array)
        case UInt8(ascii: "\""): try parseString()
        case UInt8(ascii: "t"): try literal("true", .true)
        case UInt8(ascii: "f"): try literal("false", .false)
        case UInt8(ascii: "n"): try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try parseNumber()
        default: throw fail("unexpected character")
        }
    }

    private mutating func literal(_ text: StaticString, _ kind: JSONKind) throws(Error) {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end") }
        let base = text.utf8Start
        for i in 0..<count where bytes[index + i] != base[i] { throw fail("bad literal") }
        tape.append(JSONTapeEntry(kind: kind, start: UInt32(index), length: UInt32(count), next: UInt32(tape.count + 1)))
        index += count
    }

    /// Appends the container's entry; `close` fills in its extent once its contents are read.
    private mutating func open(_ kind: JSONKind) throws(Error) -> Int {
        depth += 1
        if depth > FastJSONParser.maxDepth { throw fail("nesting deeper than \(FastJSONParser.maxDepth)") }
        tape.append(JSONTapeEntry(kind: kind, start: UInt32(index)))
        index += 1
        return tape.count - 1
    }

    private mutating func close(_ entry: Int, count: Int) {
        depth -= 1
        index += 1
        tape[entry].length = UInt32(index) - tape[entry].start
        tape[entry].next = UInt32(tape.count)
        tape[entry].count = UInt32(count)
    }

    /// An object or an array: the same loop, an object's members having a key and ':' first.
    private mutating func parseContainer(_ kind: JSONKind) throws(Error) {
        let entry = try open(kind)
        let closing = kind == .object ? UInt8(ascii: "}") : UInt8(ascii: "]")
        var count = 0
        skipWhitespace()
        if index < bytes.count && bytes[index] == closing { close(entry, count: 0); return }
        while true {
            skipWhitespace()
            if kind == .object {
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                try parseString()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                index += 1
                skipWhitespace()
            }
            try parseValue()
            count += 1
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == closing { close(entry, count: count); return }
            throw fail(kind == .object ? "expected ',' or '}'" : "expected ',' or ']'")
        }
    }

    private mutating func parseString() throws(Error) {
        index += 1  // opening quote
        let start = index
        var escaped = false
        var ascii = true
        while true {
            skipPlainBytes()
            guard index < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw fail("control character in string") }
            if byte >= 0x80 { ascii = false; index += 1; continue }
            // A backslash.
            escaped = true
            index += 1
            guard index < bytes.count else { throw fail("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                 UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                index += 1
            case UInt8(ascii: "u"):
                index += 1
                let scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw fail("lone high surrogate")
                    }
                    index += 2
                    guard (0xDC00..<0xE000).contains(try hex4()) else { throw fail("bad low surrogate") }
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw fail("lone low surrogate")
                }
            default:
                throw fail("bad escape")
            }
        }
        if !ascii, !Self.isValidUTF8(UnsafeBufferPointer(rebasing: bytes[start..<index])) {
            throw Error(message: "string is not UTF-8", offset: start)
        }
        tape.append(JSONTapeEntry(kind: .string, escaped: escaped, start: UInt32(start), length: UInt32(index - start),
                                  next: UInt32(tape.count + 1)))
        index += 1  // closing quote
    }

    /// Skips string bytes that need no attention (printable ASCII other than `"` and `\`), eight
    /// at a time while it can: strings are most of a workflow's bytes.
    private mutating func skipPlainBytes() {
        let base = UnsafeRawPointer(bytes.baseAddress!)
        while index + 8 <= bytes.count {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
            // A byte is zero in `quote`/`backslash`, or below 0x20 in `word`, or has its high bit set.
            let attention = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | (word &- ones &* 0x20) | word
            if attention & highs != 0 { break }
            index += 8
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 { return }
            index += 1
        }
    }

    private static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    private mutating func hex4() throws(Error) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("unexpected end") }
        guard let value = JSONDocument.hex4(bytes, at: index) else { throw fail("bad hex digit") }
        index += 4
        return value
    }

    private mutating func parseNumber() throws(Error) {
        let start = index
        var kind = JSONKind.integer
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw fail("bad number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            kind = .number
            index += 1
            let digits = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            if index == digits { throw fail("bad fraction") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            kind = .number
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let digits = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            if index == digits { throw fail("bad exponent") }
        }
        tape.append(JSONTapeEntry(kind: kind, start: UInt32(start), length: UInt32(index - start), next: UInt32(tape.count + 1)))
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
}
