/// A JSON object's members in the order they were read or added, with unique keys (the last of
/// duplicates wins, as in JavaScript). Small objects, nearly all of them in a workflow, are one
/// array searched by a linear scan: no hashing and one allocation, where a Dictionary costs a
/// hash of every key and its own storage. Objects past `indexThreshold` members also keep a
/// key -> position index so lookups, and hostile inputs with thousands of keys, stay linear.
/// Equality and hashing ignore order, like a dictionary's.
public struct JSONObject: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSONValue)
    public typealias Index = Int

    static let indexThreshold = 12

    /// Stored as structs, not tuples: arrays of tuples are copied and destroyed through the
    /// runtime's generic tuple witnesses, measurably slower.
    private(set) var members: [JSONMember]
    private var positions: [String: Int]?

    public init() { members = [] }

    /// Members with possibly repeated keys: the last value of a key wins, at its first position.
    init(members: [JSONMember]) {
        self.members = members
        if members.count > Self.indexThreshold {
            positions = Self.uniqueIndex(&self.members)
        } else if Self.hasDuplicateKeys(members) {
            var unique = JSONObject()
            for member in members { unique[member.key] = member.value }
            self = unique
        }
    }

    public init(_ elements: some Sequence<Element>) {
        self.init(members: elements.map { JSONMember(key: $0.key, value: $0.value) })
    }

    public init(_ dictionary: [String: JSONValue]) {
        self.init(members: dictionary.map { JSONMember(key: $0.key, value: $0.value) })
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(members: elements.map { JSONMember(key: $0.0, value: $0.1) })
    }

    // MARK: collection

    public var startIndex: Int { 0 }
    public var endIndex: Int { members.count }
    public subscript(position: Int) -> Element { (members[position].key, members[position].value) }

    public var keys: LazyMapSequence<[JSONMember], String> { members.lazy.map(\.key) }
    public var values: LazyMapSequence<[JSONMember], JSONValue> { members.lazy.map(\.value) }

    // MARK: by key

    public func position(of key: String) -> Int? {
        if let positions { return positions[key] }
        for i in members.indices where members[i].key == key { return i }
        return nil
    }

    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { members[$0].value } }
        set {
            switch (position(of: key), newValue) {
            case (let i?, let value?): members[i].value = value
            case (let i?, nil): removeMember(at: i)
            case (nil, let value?): append(key, value)
            case (nil, nil): break
            }
        }
    }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let i = position(of: key) else { return nil }
        let value = members[i].value
        removeMember(at: i)
        return value
    }

    /// Each member in key order, as they are written out; without sorting (nor allocating)
    /// when they already are in that order.
    public func forEachSortedByKey(_ body: (String, JSONValue) -> Void) {
        if members.indices.dropFirst().allSatisfy({ members[$0 - 1].key < members[$0].key }) {
            for member in members { body(member.key, member.value) }
        } else {
            for member in members.sorted(by: { $0.key < $1.key }) { body(member.key, member.value) }
        }
    }

    /// The same members, as a dictionary (for code that wants one).
    public var dictionary: [String: JSONValue] {
        Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    private mutating func append(_ key: String, _ value: JSONValue) {
        members.append(JSONMember(key: key, value: value))
        if positions != nil {
            positions![key] = members.count - 1
        } else if members.count > Self.indexThreshold {
            positions = Self.uniqueIndex(&members)
        }
    }

    private mutating func removeMember(at i: Int) {
        members.remove(at: i)
        positions = members.count > Self.indexThreshold ? Self.uniqueIndex(&members) : nil
    }

    private static func hasDuplicateKeys(_ members: [JSONMember]) -> Bool {
        for i in members.indices {
            for j in members.indices where j < i && members[j].key == members[i].key { return true }
        }
        return false
    }

    /// The key index of `members`, folding repeated keys into their first position.
    private static func uniqueIndex(_ members: inout [JSONMember]) -> [String: Int] {
        var positions: [String: Int] = [:]
        positions.reserveCapacity(members.count)
        var unique: [JSONMember] = []
        var repeated = false
        for (i, member) in members.enumerated() {
            if let first = positions[member.key] {
                if !repeated { unique = Array(members[..<i]); repeated = true }
                unique[first].value = member.value
            } else {
                positions[member.key] = repeated ? unique.count : i
                if repeated { unique.append(member) }
            }
        }
        if repeated { members = unique }
        return positions
    }

    // MARK: equality, ignoring order

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        for member in lhs.members where rhs[member.key] != member.value { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-free: a sum of each member's own hash.
        var sum = 0
        for member in members {
            var one = Hasher()
            one.combine(member.key)
            one.combine(member.value)
            sum &+= one.finalize()
        }
        hasher.combine(members.count)
        hasher.combine(sum)
    }
}

/// One member of a `JSONObject`.
public struct JSONMember: Sendable {
    public var key: String
    public var value: JSONValue
}
