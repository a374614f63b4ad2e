#if canImport(Glibc)
import Glibc
#endif

/// Strings of one document found by their text without building them: which node has the id an
/// edge names, which form element an id means. Open addressing over tape positions. A string with
/// escapes is hashed and compared by its decoded text, so `"a\u0062"` and `"ab"` are the same key.
///
/// The hash is a folded multiply over 8-byte words, seeded per process (as Go's maps hash), so
/// crafted ids cannot be made to collide offline; Swift's `Hasher` took 80 ns for a 36-byte id
/// here, this about a tenth of that.
public struct JSONStringIndex {
    private let document: JSONDocument
    /// Tape position of each slot's key, -1 when empty; the table stays at most half full.
    private var keys: [Int32]
    private var values: [Int32]
    private var mask: Int
    public private(set) var count = 0

    public init(_ document: JSONDocument, capacity: Int) {
        self.document = document
        var size = 8
        while size < capacity * 2 { size <<= 1 }
        keys = [Int32](repeating: -1, count: size)
        values = [Int32](repeating: 0, count: size)
        mask = size - 1
    }

    /// The value stored for the text of the string at `position`.
    public func value(forStringAt position: Int) -> Int? {
        guard document.kind(at: position) == .string else { return nil }
        var slot = hash(position) & mask
        while keys[slot] >= 0 {
            if document.stringsEqual(Int(keys[slot]), position) { return Int(values[slot]) }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Stores `value` for the text of the string at `position`, replacing the value of an equal
    /// string already there (its first position is kept). Returns false for a non-string.
    @discardableResult
    public mutating func set(_ value: Int, forStringAt position: Int) -> Bool {
        insert(value, forStringAt: position, replacing: true) != nil
    }

    /// The value stored for the string's text, storing `value` first if there is none: the first
    /// of equal strings keeps its value. Nil for a non-string.
    public mutating func valueInserting(_ value: Int, forStringAt position: Int) -> Int? {
        insert(value, forStringAt: position, replacing: false)
    }

    private mutating func insert(_ value: Int, forStringAt position: Int, replacing: Bool) -> Int? {
        guard document.kind(at: position) == .string else { return nil }
        var slot = hash(position) & mask
        while keys[slot] >= 0 {
            if document.stringsEqual(Int(keys[slot]), position) {
                if replacing { values[slot] = Int32(value) }
                return Int(values[slot])
            }
            slot = (slot + 1) & mask
        }
        keys[slot] = Int32(position)
        values[slot] = Int32(value)
        count += 1
        if count * 2 > keys.count { grow() }
        return value
    }

    private static let seed = UInt64.random(in: .min ... .max)

    private func hash(_ position: Int) -> Int {
        document.withText(ofStringAt: position) { text in
            let count = text.count
            var h = Self.seed ^ UInt64(count)
            var i = 0
            let raw = UnsafeRawPointer(text.baseAddress ?? UnsafePointer(bitPattern: 1)!)
            while i + 8 <= count {
                h = Self.mix(h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                i += 8
            }
            if i < count {
                var tail: UInt64 = 0
                for k in 0..<(count - i) { tail |= UInt64(text[i + k]) << (8 * k) }
                h = Self.mix(h ^ tail)
            }
            return Int(truncatingIfNeeded: Self.mix(h))
        }
    }

    /// One multiply, both halves folded together: every input bit reaches every output bit.
    @inline(__always)
    private static func mix(_ x: UInt64) -> UInt64 {
        let product = (x ^ 0xA076_1D64_78BD_642F).multipliedFullWidth(by: 0xE703_7ED1_A0B4_28DB)
        return product.high ^ product.low
    }

    private mutating func grow() {
        let old = zip(keys, values).filter { $0.0 >= 0 }
        keys = [Int32](repeating: -1, count: keys.count * 2)
        values = [Int32](repeating: 0, count: keys.count)
        mask = keys.count - 1
        for (key, value) in old {
            var slot = hash(Int(key)) & mask
            while keys[slot] >= 0 { slot = (slot + 1) & mask }
            keys[slot] = key
            values[slot] = value
        }
    }
}
