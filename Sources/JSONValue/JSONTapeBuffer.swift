/// A document's tape in memory the document owns (freed with it): appended while parsing
/// without the copy-on-write and capacity bookkeeping an array makes per value, read with one
/// bounds check. Immutable once the document exists.
struct JSONTapeBuffer: @unchecked Sendable {
    private var base: UnsafeMutablePointer<JSONTapeEntry>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    @inline(__always)
    mutating func append(_ entry: JSONTapeEntry) {
        if count == capacity { grow() }
        (base + count).initialize(to: entry)
        count += 1
    }

    subscript(index: Int) -> JSONTapeEntry {
        @inline(__always) get {
            precondition(index >= 0 && index < count, "tape position out of range")
            return base[index]
        }
        @inline(__always) nonmutating set {
            precondition(index >= 0 && index < count, "tape position out of range")
            base[index] = newValue
        }
    }

    /// Entries are plain values: freeing the memory is all there is to it.
    func deallocate() { base.deallocate() }

    private mutating func grow() {
        let larger = UnsafeMutablePointer<JSONTapeEntry>.allocate(capacity: capacity * 2)
        larger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = larger
        capacity *= 2
    }
}

/// What a JSON value is, as a tape entry records it.
public enum JSONKind: UInt8, Sendable {
    case null, `false`, `true`, integer, number, string, array, object
}

/// One value of a `JSONDocument`, in document order (an object's key, then its value, then the
/// next key...). Offsets point into the document's bytes; nothing is copied out of them.
struct JSONTapeEntry: Sendable {
    var kind: JSONKind
    /// A string whose text has escapes (decoding it is not a plain copy).
    var escaped = false
    /// First byte of the value (of a string: after its opening quote).
    var start: UInt32
    /// Byte length (of a string: without the quotes; of a container: through its closing bracket).
    var length: UInt32 = 0
    /// Tape index just past this value and everything inside it.
    var next: UInt32 = 0
    /// Members of an object, items of an array.
    var count: UInt32 = 0
}
