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
