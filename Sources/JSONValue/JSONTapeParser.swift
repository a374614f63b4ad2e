/// The strict RFC 8259 grammar, recording each value as a `JSONTapeEntry` (kind and byte range)
/// instead of building it: no allocation per value, strings and numbers left in place. Checks
/// everything a tree parser would (escapes, surrogate pairs, UTF-8, control characters, nesting
/// up to `FastJSONParser.maxDepth`), so a tape that exists is valid JSON.
///
/// One loop over the bytes with a stack of the containers still open, rather than a function per
/// grammar rule: the read position stays in a register, which made reading a workflow's text
/// about twice as fast as the recursive descent it replaced.
enum JSONTapeParser {
    typealias Error = FastJSONParser.Error

    /// A container being read: its tape entry, whether it is an object, and its values so far.
    private struct OpenContainer {
        let entry: Int
        let isObject: Bool
        var count: UInt32
    }

    static func tape(of bytes: UnsafeBufferPointer<UInt8>) throws(Error) -> JSONTapeBuffer {
        guard bytes.count < Int(UInt32.max) else { throw Error(message: "document larger than 4 GiB", offset: 0) }
        guard let p = bytes.baseAddress, !bytes.isEmpty else { throw Error(message: "unexpected end", offset: 0) }
        let end = bytes.count
        var i = 0
        var tape = JSONTapeBuffer(capacity: end / 8 + 16)
        var parsed = false
        defer { if !parsed { tape.deallocate() } }
        // The open containers, innermost last: at most `maxDepth`, so one fixed buffer.
        let open = UnsafeMutablePointer<OpenContainer>.allocate(capacity: FastJSONParser.maxDepth)
        defer { open.deallocate() }
        var depth = 0

        skipWhitespace(p, &i, end)
        readValue: while true {
            // A value starts at `i`.
            guard i < end else { throw Error(message: "unexpected end", offset: i) }
            switch p[i] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = p[i] == UInt8(ascii: "{")
                guard depth < FastJSONParser.maxDepth else {
                    throw Error(message: "nesting deeper than \(FastJSONParser.maxDepth)", offset: i)
                }
                tape.append(JSONTapeEntry(kind: isObject ? .object : .array, start: UInt32(i)))
                (open + depth).initialize(to: OpenContainer(entry: tape.count - 1, isObject: isObject, count: 0))
                depth += 1
                i += 1
                skipWhitespace(p, &i, end)
                if i < end, p[i] == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    i += 1
                    depth -= 1
                    close(open[depth], at: i, in: &tape)
                } else {
                    if isObject { try readKey(p, &i, end, &tape) }
                    continue readValue
                }
            case UInt8(ascii: "\""):
                try readString(p, &i, end, &tape)
            case UInt8(ascii: "t"):
                try readLiteral("true", .true, p, &i, end, &tape)
            case UInt8(ascii: "f"):
                try readLiteral("false", .false, p, &i, end, &tape)
            case UInt8(ascii: "n"):
                try readLiteral("null", .null, p, &i, end, &tape)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try readNumber(p, &i, end, &tape)
            default:
                throw Error(message: "unexpected character", offset: i)
            }
            // A value ended: it counts for the innermost open container, which goes on (',') or
            // ends (its closing bracket, itself a value ending) until another value starts.
            while true {
                skipWhitespace(p, &i, end)
                guard depth > 0 else { break readValue }
                guard i < end else { throw Error(message: "unexpected end", offset: i) }
                let top = depth - 1
                open[top].count += 1
                if p[i] == UInt8(ascii: ",") {
                    i += 1
                    skipWhitespace(p, &i, end)
                    if open[top].isObject { try readKey(p, &i, end, &tape) }
                    continue readValue
                }
                guard p[i] == (open[top].isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else {
                    throw Error(message: open[top].isObject ? "expected ',' or '}'" : "expected ',' or ']'", offset: i)
                }
                i += 1
                depth -= 1
                close(open[depth], at: i, in: &tape)
            }
        }
        if i != end { throw Error(message: "trailing characters", offset: i) }
        parsed = true
        return tape
    }

    /// Fills in a container's extent once its closing bracket (just before `end`) is read.
    @inline(__always)
    private static func close(_ container: OpenContainer, at end: Int, in tape: inout JSONTapeBuffer) {
        var entry = tape[container.entry]
        entry.length = UInt32(end) - entry.start
        entry.next = UInt32(tape.count)
        entry.count = container.count
        tape[container.entry] = entry
    }

    @inline(__always)
    private static func skipWhitespace(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int) {
        while i < end {
            switch p[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }

    /// An object member's key and its ':', up to the value.
    @inline(__always)
    private static func readKey(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int, _ tape: inout JSONTapeBuffer)
        throws(Error)
    {
        guard i < end, p[i] == UInt8(ascii: "\"") else { throw Error(message: "expected a key", offset: i) }
        try readString(p, &i, end, &tape)
        skipWhitespace(p, &i, end)
        guard i < end, p[i] == UInt8(ascii: ":") else { throw Error(message: "expected ':'", offset: i) }
        i += 1
        skipWhitespace(p, &i, end)
    }

    @inline(__always)
    private static func readLiteral(
        _ text: StaticString, _ kind: JSONKind, _ p: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int,
        _ tape: inout JSONTapeBuffer
    ) throws(Error) {
        let count = text.utf8CodeUnitCount
        guard i + count <= end else { throw Error(message: "unexpected end", offset: i) }
        for k in 0..<count where p[i + k] != text.utf8Start[k] { throw Error(message: "bad literal", offset: i) }
        tape.append(JSONTapeEntry(kind: kind, start: UInt32(i), length: UInt32(count), next: UInt32(tape.count + 1)))
        i += count
    }

    @inline(__always)
    private static func readString(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int, _ tape: inout JSONTapeBuffer)
        throws(Error)
    {
        i += 1 // opening quote
        let start = i
        var escaped = false
        var ascii = true
        while true {
            skipPlainBytes(p, &i, end)
            guard i < end else { throw Error(message: "unterminated string", offset: i) }
            let byte = p[i]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw Error(message: "control character in string", offset: i) }
            if byte >= 0x80 { ascii = false; i += 1; continue }
            // A backslash.
            escaped = true
            i += 1
            guard i < end else { throw Error(message: "unexpected end", offset: i) }
            switch p[i] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                i += 1
            case UInt8(ascii: "u"):
                i += 1
                let scalar = try hex4(p, &i, end)
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 1 < end, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u") else {
                        throw Error(message: "lone high surrogate", offset: i)
                    }
                    i += 2
                    guard (0xDC00..<0xE000).contains(try hex4(p, &i, end)) else {
                        throw Error(message: "bad low surrogate", offset: i)
                    }
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw Error(message: "lone low surrogate", offset: i)
                }
            default:
                throw Error(message: "bad escape", offset: i)
            }
        }
        if !ascii, !isValidUTF8(UnsafeBufferPointer(start: p + start, count: i - start)) {
            throw Error(message: "string is not UTF-8", offset: start)
        }
        tape.append(
            JSONTapeEntry(
                kind: .string, escaped: escaped, start: UInt32(start), length: UInt32(i - start),
                next: UInt32(tape.count + 1)))
        i += 1 // closing quote
    }

    /// Skips string bytes that need no attention (printable ASCII other than `"` and `\`), eight
    /// at a time while it can: strings are most of a workflow's bytes.
    @inline(__always)
    private static func skipPlainBytes(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int) {
        let base = UnsafeRawPointer(p)
        while i + 8 <= end {
            let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
            // A byte is zero in `quote`/`backslash`, or below 0x20 in `word`, or has its high bit
            // set. Borrows can only mark bytes after the first such byte, so the lowest mark is it.
            let attention =
                (((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | (word &- ones &* 0x20) | word)
                & highs
            if attention != 0 {
                i += attention.trailingZeroBitCount >> 3 // bytes are little-endian in the word
                return
            }
            i += 8
        }
        while i < end {
            let byte = p[i]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 { return }
            i += 1
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

    private static func hex4(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int) throws(Error) -> UInt32 {
        guard i + 4 <= end else { throw Error(message: "unexpected end", offset: i) }
        guard let value = JSONDocument.hex4(UnsafeBufferPointer(start: p + i, count: 4), at: 0) else {
            throw Error(message: "bad hex digit", offset: i)
        }
        i += 4
        return value
    }

    @inline(__always)
    private static func readNumber(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int, _ tape: inout JSONTapeBuffer)
        throws(Error)
    {
        let start = i
        var kind = JSONKind.integer
        if p[i] == UInt8(ascii: "-") { i += 1 }
        guard i < end, isDigit(p[i]) else { throw Error(message: "bad number", offset: i) }
        if p[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < end, isDigit(p[i]) { i += 1 }
        }
        if i < end, p[i] == UInt8(ascii: ".") {
            kind = .number
            i += 1
            let digits = i
            while i < end, isDigit(p[i]) { i += 1 }
            if i == digits { throw Error(message: "bad fraction", offset: i) }
        }
        if i < end, p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E") {
            kind = .number
            i += 1
            if i < end, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") { i += 1 }
            let digits = i
            while i < end, isDigit(p[i]) { i += 1 }
            if i == digits { throw Error(message: "bad exponent", offset: i) }
        }
        tape.append(
            JSONTapeEntry(kind: kind, start: UInt32(start), length: UInt32(i - start), next: UInt32(tape.count + 1)))
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
}
