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
