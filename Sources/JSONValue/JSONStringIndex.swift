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
    /// A key's tape position (-1: empty slot) and its value.
    private struct Slot {
        var key: Int32
        var value: Int32
    }

    private let document: JSONDocument
    /// The table stays at most half full.
    private var slots: [Slot]
    private var mask: Int
    public private(set) var count = 0

    public init(_ document: JSONDocument, capacity: Int) {
        self.document = document
        var size = 8
        while size < capacity * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(key: -1, value: 0), count: size)
        mask = size - 1
    }

    /// The value stored for the text of the string at `position`.
    public func value(forStringAt position: Int) -> Int? {
        guard document.kind(at: position) == .string else { return nil }
        return slots.withUnsafeBufferPointer { slots in
            var slot = hash(position) & mask
            while slots[slot].key >= 0 {
                if document.stringsEqual(Int(slots[slot].key), position) { return Int(slots[slot].value) }
                slot = (slot + 1) & mask
            }
            return nil
        }
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
        while slots[slot].key >= 0 {
            if document.stringsEqual(Int(slots[slot].key), position) {
                if replacing { slots[slot].value = Int32(value) }
                return Int(slots[slot].value)
            }
            slot = (slot + 1) & mask
        }
        slots[slot] = Slot(key: Int32(position), value: Int32(value))
        count += 1
        if count * 2 > slots.count { grow() }
        return value
    }

    private static let seed = UInt64.random(in: .min ... .max)

    private func hash(_ position: Int) -> Int {
        Int(truncatingIfNeeded: document.textHash(ofStringAt: position, seed: Self.seed))
    }

    private mutating func grow() {
        let old = slots.filter { $0.key >= 0 }
        slots = [Slot](repeating: Slot(key: -1, value: 0), count: slots.count * 2)
        mask = slots.count - 1
        for entry in old {
            var slot = hash(Int(entry.key)) & mask
            while slots[slot].key >= 0 { slot = (slot + 1) & mask }
            slots[slot] = entry
        }
    }
}
