#if canImport(Glibc)
import Glibc
#endif

/// A fixed list of names (a node type's field names) to tell which one a document's string is,
/// by its bytes: one flat buffer, lengths compared first, no string built.
public struct JSONNameList: Sendable {
    private let bytes: [UInt8]
    /// Where each name ends in `bytes`.
    private let ends: [Int]

    public init(_ names: [String]) {
        bytes = names.flatMap(\.utf8)
        var end = 0
        ends = names.map { end += $0.utf8.count; return end }
    }

    /// The position in the list of the name equal to the string at `index` in `document`.
    public func position(ofStringAt index: Int, in document: JSONDocument) -> Int? {
        let entry = document.tape[index]
        guard entry.kind == .string else { return nil }
        if entry.escaped { return document.withText(ofStringAt: index, position(of:)) }
        return document.bytes.withUnsafeBufferPointer { text in
            position(of: UnsafeBufferPointer(rebasing: text[Int(entry.start)..<Int(entry.start + entry.length)]))
        }
    }

    /// The position in the list of the name whose UTF-8 is `text`.
    public func position(of text: UnsafeBufferPointer<UInt8>) -> Int? {
        bytes.withUnsafeBufferPointer { names in
            ends.withUnsafeBufferPointer { ends in
                var start = 0
                for position in 0..<ends.count {
                    let end = ends[position]
                    if end - start == text.count, text.isEmpty || memcmp(names.baseAddress! + start, text.baseAddress!, text.count) == 0 {
                        return position
                    }
                    start = end
                }
                return nil
            }
        }
    }
}
