/// An ordered list of header fields with case-insensitive lookup by name.
/// Order and duplicates are kept as received, because some fields may repeat.
///
/// Shared by the server (requests, responses) and the upstream client (answers). The members
/// are `@inlinable` because the server's encoder and connections use them per request.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    public typealias Element = (name: String, value: String)
    @usableFromInline var fields: [Element] = []

    @inlinable public init() {}
    @inlinable public init(_ fields: [(String, String)]) { self.fields = fields.map { (name: $0.0, value: $0.1) } }
    @inlinable public init(dictionaryLiteral elements: (String, String)...) { self.init(elements) }

    @inlinable public var count: Int { fields.count }
    @inlinable public var isEmpty: Bool { fields.isEmpty }
    @inlinable public func makeIterator() -> IndexingIterator<[Element]> { fields.makeIterator() }

    /// The first value of the named field, if present.
    @inlinable public subscript(name: String) -> String? {
        get { fields.first { $0.name.caseInsensitiveEquals(name) }?.value }
        set {
            remove(name)
            if let newValue { fields.append((name: name, value: newValue)) }
        }
    }

    /// Every value of the named field, in order.
    @inlinable public func values(_ name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveEquals(name) }.map(\.value)
    }

    /// Every value of the named field joined with ", " (the field's combined value, RFC 9110
    /// §5.3); nil when it is absent.
    public func combinedValue(_ name: String) -> String? {
        let values = values(name)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

    @inlinable public func contains(_ name: String) -> Bool { fields.contains { $0.name.caseInsensitiveEquals(name) } }

    @inlinable public mutating func add(_ name: String, _ value: String) { fields.append((name: name, value: value)) }

    @inlinable public mutating func remove(_ name: String) { fields.removeAll { $0.name.caseInsensitiveEquals(name) } }

    /// The last field, for a continuation line (obsolete folding) to extend.
    mutating func appendToLastValue(_ text: String) {
        guard !fields.isEmpty else { return }
        fields[fields.count - 1].value += text
    }

    /// The comma-separated list elements of every value of the field, trimmed and lowercased
    /// (for tokens such as `Connection: keep-alive, Upgrade`).
    public func tokens(_ name: String) -> [String] {
        values(name).flatMap { $0.split(separator: ",") }
            .map { $0.trimmingHTTPWhitespace().lowercased() }
            .filter { !$0.isEmpty }
    }

    public var description: String { fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n") }
}

extension StringProtocol {
    /// ASCII case-insensitive comparison, as header names require (no locale, no allocation).
    @inlinable public func caseInsensitiveEquals<Other: StringProtocol>(_ other: Other) -> Bool {
        let a = utf8, b = other.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            let lx = (x >= 65 && x <= 90) ? x | 0x20 : x
            let ly = (y >= 65 && y <= 90) ? y | 0x20 : y
            if lx != ly { return false }
        }
        return true
    }

    /// Drops leading and trailing spaces and horizontal tabs (HTTP's optional white space).
    public func trimmingHTTPWhitespace() -> String {
        var slice = Substring(self)
        while let c = slice.first, c == " " || c == "\t" { slice.removeFirst() }
        while let c = slice.last, c == " " || c == "\t" { slice.removeLast() }
        return String(slice)
    }
}
