#if canImport(Glibc)
import Glibc
#endif

/// A JSON text checked once and kept as it is, with a tape of its values (kind, byte range,
/// extent) to walk it: reading a workflow this way allocates nothing per value, looks up only what
/// it needs, and copies untouched parts out byte for byte (`raw`). `value(at:)` builds the
/// `JSONValue` of any part when a caller wants one. Positions are tape indices; the root is 0.
public final class JSONDocument: Sendable {
    public let bytes: [UInt8]
    let tape: JSONTapeBuffer

    public init(bytes: [UInt8]) throws(FastJSONParser.Error) {
        tape = try bytes.withUnsafeBufferPointer { buffer throws(FastJSONParser.Error) in
            try JSONTapeParser.tape(of: buffer)
        }
        self.bytes = bytes
    }

    deinit { tape.deallocate() }

    /// Inlinable so that the copy into an array is specialised for the caller's collection
    /// (a `Data` copies in one go rather than byte by byte).
    @inlinable
    public convenience init(parsing input: some Collection<UInt8>) throws(FastJSONParser.Error) {
        try self.init(bytes: Array(input))
    }

    /// The document of a value already in memory (its compact text, keys sorted).
    public convenience init(_ value: JSONValue) {
        try! self.init(parsing: value.compactJSONBytes) // the writer only writes valid JSON
    }

    public var root: JSONNode { JSONNode(document: self, index: 0) }

    // MARK: reading by position

    public func kind(at index: Int) -> JSONKind { tape[index].kind }

    /// How many members (object) or items (array).
    public func count(at index: Int) -> Int { Int(tape[index].count) }

    /// The position of the member `key` of the object at `index` when its value is of `kind`.
    public func member(_ key: String, of index: Int, kind: JSONKind) -> Int? {
        member(key, of: index).flatMap { tape[$0].kind == kind ? $0 : nil }
    }

    /// The position of the member `key` of the object at `index` (the last one, if repeated).
    public func member(_ key: String, of index: Int) -> Int? {
        guard tape[index].kind == .object else { return nil }
        var key = key
        return key.withUTF8 { member($0, of: index) }
    }

    /// One pass over the members, comparing lengths first and bytes only when they match.
    private func member(_ wanted: UnsafeBufferPointer<UInt8>, of index: Int) -> Int? {
        guard tape[index].kind == .object else { return nil }
        return bytes.withUnsafeBufferPointer { text in
            var found: Int?
            var position = index + 1
            for _ in 0..<tape[index].count {
                let entry = tape[position]
                if entry.escaped {
                    if string(at: position) == String(decoding: wanted, as: UTF8.self) { found = position + 1 }
                } else if Int(entry.length) == wanted.count,
                    wanted.isEmpty
                        || memcmp(text.baseAddress! + Int(entry.start), wanted.baseAddress!, wanted.count) == 0
                {
                    found = position + 1
                }
                position = Int(tape[position + 1].next)
            }
            return found
        }
    }

    /// The string member `key` of the object at `index`.
    public func string(_ key: String, of index: Int) -> String? { member(key, of: index).flatMap(string(at:)) }

    /// The boolean member `key` of the object at `index`.
    public func bool(_ key: String, of index: Int) -> Bool? { member(key, of: index).flatMap(bool(at:)) }

    /// Each member's key and value positions, in document order.
    public func members(of index: Int) -> [(key: Int, value: Int)] {
        guard tape[index].kind == .object else { return [] }
        var members: [(key: Int, value: Int)] = []
        members.reserveCapacity(Int(tape[index].count))
        var position = index + 1
        for _ in 0..<tape[index].count {
            members.append((position, position + 1))
            position = Int(tape[position + 1].next)
        }
        return members
    }

    /// Calls `body` with each member's key and value positions, in document order (nothing allocated).
    public func forEachMember(of index: Int, _ body: (_ key: Int, _ value: Int) throws -> Void) rethrows {
        guard tape[index].kind == .object else { return }
        var position = index + 1
        for _ in 0..<tape[index].count {
            try body(position, position + 1)
            position = Int(tape[position + 1].next)
        }
    }

    /// Reads several members of the object at `index` in one pass: calls `body` with the index in
    /// `keys` and the value's position of each member named by one of them, in document order (of
    /// a repeated key the caller sees each, the last one last). Keys are compared length first.
    public func forEachMember(
        of index: Int, named keys: [StaticString], _ body: (_ key: Int, _ value: Int) throws -> Void
    ) rethrows {
        guard tape[index].kind == .object else { return }
        try bytes.withUnsafeBufferPointer { text in
            try keys.withUnsafeBufferPointer { keys in
                var position = index + 1
                for _ in 0..<tape[index].count {
                    let entry = tape[position]
                    let length = Int(entry.length)
                    for which in 0..<keys.count {
                        let key = keys[which]
                        let matches: Bool
                        if entry.escaped {
                            matches = string(at: position)!.utf8.elementsEqual(
                                UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
                        } else {
                            matches =
                                length == key.utf8CodeUnitCount
                                && (length == 0
                                    || (text[Int(entry.start)] == key.utf8Start[0]
                                        && memcmp(text.baseAddress! + Int(entry.start), key.utf8Start, length) == 0))
                        }
                        if matches { try body(which, position + 1); break }
                    }
                    position = Int(tape[position + 1].next)
                }
            }
        }
    }

    /// Calls `body` with each item's position, in order (nothing allocated).
    public func forEachItem(of index: Int, _ body: (Int) throws -> Void) rethrows {
        guard tape[index].kind == .array else { return }
        var position = index + 1
        for _ in 0..<tape[index].count {
            try body(position)
            position = Int(tape[position].next)
        }
    }

    /// Each item's position, in order.
    public func items(of index: Int) -> [Int] {
        guard tape[index].kind == .array else { return [] }
        var items: [Int] = []
        items.reserveCapacity(Int(tape[index].count))
        var position = index + 1
        for _ in 0..<tape[index].count {
            items.append(position)
            position = Int(tape[position].next)
        }
        return items
    }

    public func string(at index: Int) -> String? {
        let entry = tape[index]
        guard entry.kind == .string else { return nil }
        return bytes.withUnsafeBufferPointer { buffer in
            let text = UnsafeBufferPointer(rebasing: buffer[Int(entry.start)..<Int(entry.start + entry.length)])
            return entry.escaped ? Self.unescape(text) : String(decoding: text, as: UTF8.self) // checked when parsed
        }
    }

    /// Whether the value at `index` is the empty string (an escape always stands for something).
    public func isEmptyString(at index: Int) -> Bool { tape[index].kind == .string && tape[index].length == 0 }

    /// Whether the value at `index` is the string `text`, without building a String when it has no escapes.
    public func string(at index: Int, equals text: String) -> Bool {
        let entry = tape[index]
        guard entry.kind == .string else { return false }
        if entry.escaped { return string(at: index) == text }
        var text = text
        return text.withUTF8 { wanted in
            wanted.count == Int(entry.length)
                && (wanted.isEmpty
                    || bytes.withUnsafeBufferPointer {
                        memcmp($0.baseAddress! + Int(entry.start), wanted.baseAddress!, wanted.count) == 0
                    })
        }
    }

    /// Calls `body` with the UTF-8 text of the string at `index` (decoded only if it has escapes).
    public func withText<R>(ofStringAt index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let entry = tape[index]
        precondition(entry.kind == .string, "not a string")
        if entry.escaped {
            var text = string(at: index)!
            return try text.withUTF8(body)
        }
        return try bytes.withUnsafeBufferPointer {
            try body(UnsafeBufferPointer(rebasing: $0[Int(entry.start)..<Int(entry.start + entry.length)]))
        }
    }

    /// A seeded hash of the string's text (decoded if it has escapes): a folded multiply per
    /// 8-byte word, the last word overlapping the one before it.
    func textHash(ofStringAt index: Int, seed: UInt64) -> UInt64 {
        // Plain text in place, not through `withText`'s closure (as in `JSONNameList`: measured).
        let entry = tape[index]
        if entry.escaped { return withText(ofStringAt: index) { Self.hash($0, seed: seed) } }
        return bytes.withUnsafeBufferPointer {
            Self.hash(UnsafeBufferPointer(rebasing: $0[Int(entry.start)..<Int(entry.start + entry.length)]), seed: seed)
        }
    }

    static func hash(_ text: UnsafeBufferPointer<UInt8>, seed: UInt64) -> UInt64 {
        @inline(__always) func mix(_ x: UInt64) -> UInt64 {
            let product = (x ^ 0xA076_1D64_78BD_642F).multipliedFullWidth(by: 0xE703_7ED1_A0B4_28DB)
            return product.high ^ product.low
        }
        let count = text.count
        var h = seed ^ UInt64(count)
        guard let base = text.baseAddress else { return mix(h) }
        let raw = UnsafeRawPointer(base)
        if count < 8 {
            var word: UInt64 = 0
            for k in 0..<count { word |= UInt64(base[k]) << (8 * k) }
            return mix(mix(h ^ word))
        }
        var i = 0
        while i + 8 < count {
            h = mix(h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        return mix(mix(h ^ raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)))
    }

    /// Whether the strings at two positions have the same text.
    public func stringsEqual(_ a: Int, _ b: Int) -> Bool {
        let x = tape[a], y = tape[b]
        guard x.kind == .string, y.kind == .string else { return false }
        if !x.escaped && !y.escaped {
            return x.length == y.length
                && bytes.withUnsafeBufferPointer {
                    memcmp($0.baseAddress! + Int(x.start), $0.baseAddress! + Int(y.start), Int(x.length)) == 0
                }
        }
        return withText(ofStringAt: a) { first in withText(ofStringAt: b) { first.elementsEqual($0) } }
    }

    public func int(at index: Int) -> Int? {
        guard tape[index].kind == .integer, case .int(let value) = number(at: index) else { return nil }
        return value
    }

    public func bool(at index: Int) -> Bool? {
        switch tape[index].kind {
        case .true: true
        case .false: false
        default: nil
        }
    }

    /// The value's text exactly as the document has it (a string with its quotes).
    public func raw(at index: Int) -> ArraySlice<UInt8> {
        let entry = tape[index]
        let quote = entry.kind == .string ? 1 : 0
        return bytes[(Int(entry.start) - quote)..<(Int(entry.start + entry.length) + quote)]
    }

    /// Appends the value's text exactly as the document has it to `out`, in one copy.
    public func appendRaw(at index: Int, to out: inout [UInt8]) {
        let entry = tape[index]
        let quote = entry.kind == .string ? 1 : 0
        bytes.withUnsafeBufferPointer {
            out.append(
                contentsOf: UnsafeBufferPointer(
                    rebasing: $0[(Int(entry.start) - quote)..<(Int(entry.start + entry.length) + quote)]))
        }
    }

    // MARK: building values

    public func value(at index: Int) -> JSONValue {
        let entry = tape[index]
        switch entry.kind {
        case .null: return .null
        case .true: return .bool(true)
        case .false: return .bool(false)
        case .integer, .number: return number(at: index)
        case .string: return .string(string(at: index)!)
        case .array: return .array(items(of: index).map(value(at:)))
        case .object:
            var members: [JSONMember] = []
            members.reserveCapacity(Int(entry.count))
            var position = index + 1
            for _ in 0..<entry.count {
                members.append(JSONMember(key: string(at: position)!, value: value(at: position + 1)))
                position = Int(tape[position + 1].next)
            }
            return .object(JSONObject(members: members))
        }
    }

    private func number(at index: Int) -> JSONValue {
        let entry = tape[index]
        return bytes.withUnsafeBufferPointer { buffer in
            let start = Int(entry.start), end = Int(entry.start + entry.length)
            if entry.kind == .integer {
                var value = 0, i = start
                let negative = buffer[i] == UInt8(ascii: "-")
                if negative { i += 1 }
                var overflow = false
                while i < end {
                    let digit = Int(buffer[i] &- UInt8(ascii: "0"))
                    let (times, o1) = value.multipliedReportingOverflow(by: 10)
                    let (sum, o2) =
                        negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
                    if o1 || o2 { overflow = true; break }
                    value = sum
                    i += 1
                }
                if !overflow { return .int(value) }
            }
            // Past Int, or with a fraction or exponent: strtod on a NUL-terminated copy (numbers are short).
            var text = Array(buffer[start..<end])
            text.append(0)
            return .double(
                text.withUnsafeBufferPointer {
                    $0.baseAddress!.withMemoryRebound(to: CChar.self, capacity: $0.count) { strtod($0, nil) }
                })
        }
    }

    /// A string's text with its escapes decoded (the parser checked them).
    private static func unescape(_ text: UnsafeBufferPointer<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            let byte = text[i]
            i += 1
            guard byte == UInt8(ascii: "\\") else { out.append(byte); continue }
            let escape = text[i]
            i += 1
            switch escape {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(text, at: i)!
                i += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (hex4(text, at: i + 2)! - 0xDC00)
                    i += 6
                }
                out.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar)!)!)
            default: out.append(escape) // " \ /
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt32? {
        var value: UInt32 = 0
        for byte in bytes[index..<(index + 4)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
