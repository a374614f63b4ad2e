#if canImport(Glibc)
import Glibc
#endif

/// A fixed list of names (a node type's field names, every node type) to tell which one a
/// document's string is, by its bytes, no string built: one flat buffer, lengths compared first;
/// past a handful of names, a table by the seeded hash `JSONStringIndex` uses.
public struct JSONNameList: Sendable {
    private let bytes: [UInt8]
    /// Where each name ends in `bytes`.
    private let ends: [Int]
    /// Open addressing by hash: each slot the position of a name plus one, 0 when empty.
    private let table: [Int32]

    private static let seed = UInt64.random(in: .min ... .max)
    private static let scanLimit = 16

    public init(_ names: [String]) {
        bytes = names.flatMap(\.utf8)
        var end = 0
        ends = names.map {
            end += $0.utf8.count; return end
        }
        guard names.count > Self.scanLimit else { table = []; return }
        var size = 8
        while size < names.count * 2 { size <<= 1 }
        var table = [Int32](repeating: 0, count: size)
        for (position, name) in names.enumerated() {
            var name = name
            var slot = name.withUTF8 { Int(truncatingIfNeeded: JSONDocument.hash($0, seed: Self.seed)) } & (size - 1)
            while table[slot] != 0 { slot = (slot + 1) & (size - 1) }
            table[slot] = Int32(position + 1)
        }
        self.table = table
    }

    /// The position in the list of the name equal to the string at `index` in `document` (the
    /// first, if the list repeats it).
    public func position(ofStringAt index: Int, in document: JSONDocument) -> Int? {
        let entry = document.tape[index]
        guard entry.kind == .string else { return nil }
        // Plain text is read in place here rather than through `withText`, whose closure cost a
        // seventh of reading a workflow (measured): this runs for every stored field.
        if entry.escaped { return document.withText(ofStringAt: index, position(of:)) }
        return document.bytes.withUnsafeBufferPointer { text in
            position(of: UnsafeBufferPointer(rebasing: text[Int(entry.start)..<Int(entry.start + entry.length)]))
        }
    }

    /// The position in the list of the name whose UTF-8 is `text`.
    public func position(of text: UnsafeBufferPointer<UInt8>) -> Int? {
        bytes.withUnsafeBufferPointer { names in
            ends.withUnsafeBufferPointer { ends in
                func matches(_ position: Int) -> Bool {
                    let start = position == 0 ? 0 : ends[position - 1], end = ends[position]
                    return end - start == text.count
                        && (text.isEmpty || memcmp(names.baseAddress! + start, text.baseAddress!, text.count) == 0)
                }
                if table.isEmpty {
                    return (0..<ends.count).first(where: matches)
                }
                return table.withUnsafeBufferPointer { table in
                    var slot = Int(truncatingIfNeeded: JSONDocument.hash(text, seed: Self.seed)) & (table.count - 1)
                    while table[slot] != 0 {
                        if matches(Int(table[slot]) - 1) { return Int(table[slot]) - 1 }
                        slot = (slot + 1) & (table.count - 1)
                    }
                    return nil
                }
            }
        }
    }
}
