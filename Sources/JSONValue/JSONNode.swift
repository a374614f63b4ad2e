/// A value inside a `JSONDocument`, read in place: the same questions as `JSONValue` asks
/// (`node["data"]?["inputs"]`, `stringValue`...) without building anything it does not return.
public struct JSONNode: Sendable {
    public let document: JSONDocument
    public let index: Int

    public var kind: JSONKind { document.kind(at: index) }
    public var isNull: Bool { kind == .null }
    public var isObject: Bool { kind == .object }
    public var isArray: Bool { kind == .array }

    public subscript(key: String) -> JSONNode? {
        document.member(key, of: index).map { JSONNode(document: document, index: $0) }
    }

    /// An array's items; empty for anything else.
    public var items: [JSONNode] { document.items(of: index).map { JSONNode(document: document, index: $0) } }

    /// An object's members in document order; empty for anything else.
    public var members: [(key: String, value: JSONNode)] {
        document.members(of: index).map {
            (document.string(at: $0.key)!, JSONNode(document: document, index: $0.value))
        }
    }

    public var stringValue: String? { document.string(at: index) }
    public func isString(_ text: String) -> Bool { document.string(at: index, equals: text) }
    public var intValue: Int? { document.int(at: index) }
    public var boolValue: Bool? { document.bool(at: index) }

    /// The value, built.
    public var value: JSONValue { document.value(at: index) }
    /// The value's text as the document has it.
    public var raw: ArraySlice<UInt8> { document.raw(at: index) }
}
