/// A node's place in a workflow's node list. Its own type, so it is never mistaken for the other
/// integers the engine handles: tape positions, template ordinals, input indices.
struct NodeIndex: Hashable, Comparable, Sendable {
    let rawValue: Int

    init(_ rawValue: Int) { self.rawValue = rawValue }

    static func < (a: NodeIndex, b: NodeIndex) -> Bool { a.rawValue < b.rawValue }
}

/// One template field of one node: the node, and the field's ordinal among its template's
/// ordered inputs. Ordered by node, then ordinal.
struct NodeField: Hashable, Comparable, Sendable {
    let node: NodeIndex
    let ordinal: Int

    static func < (a: NodeField, b: NodeField) -> Bool { (a.node, a.ordinal) < (b.node, b.ordinal) }
}

/// One entry per node, indexed by `NodeIndex`.
struct NodeTable<Element> {
    private(set) var elements: [Element] = []

    var count: Int { elements.count }
    var indices: LazyMapSequence<Range<Int>, NodeIndex> { elements.indices.lazy.map(NodeIndex.init) }

    subscript(index: NodeIndex) -> Element {
        get { elements[index.rawValue] }
        set { elements[index.rawValue] = newValue }
    }

    mutating func reserveCapacity(_ capacity: Int) { elements.reserveCapacity(capacity) }

    @discardableResult
    mutating func append(_ element: Element) -> NodeIndex {
        elements.append(element)
        return NodeIndex(elements.count - 1)
    }
}

extension NodeTable: Sendable where Element: Sendable {}

/// One entry per template field of every node, indexed by `NodeField`: each node's fields follow
/// the previous node's in one array, so a lookup hashes nothing.
struct FieldTable<Element> {
    /// Where each node's fields start.
    private let starts: [Int]
    private var entries: [Element]

    init() {
        starts = []
        entries = []
    }

    init(_ nodes: NodeTable<WorkflowNode>, repeating element: Element) {
        var starts: [Int] = []
        starts.reserveCapacity(nodes.count)
        var count = 0
        for node in nodes.elements {
            starts.append(count)
            count += node.template?.orderedInputs.count ?? 0
        }
        self.starts = starts
        entries = [Element](repeating: element, count: count)
    }

    subscript(field: NodeField) -> Element {
        get { entries[starts[field.node.rawValue] + field.ordinal] }
        set { entries[starts[field.node.rawValue] + field.ordinal] = newValue }
    }
}

extension FieldTable: Sendable where Element: Sendable {}

/// What a workflow does with one template field of one node. Eight bytes: one per field of
/// every node, made for every workflow read.
struct FieldUse: Sendable {
    private var flags: UInt8 = 0
    private var inputIndex: Int32 = -1

    /// A (non-collapsed) edge from a node the workflow has feeds it.
    var isEdgeFed: Bool {
        get { flags & 1 != 0 }
        set { flags = newValue ? flags | 1 : flags & ~1 }
    }
    /// A graph edge feeds it: the graph node leaves it out.
    var isGraphFed: Bool {
        get { flags & 2 != 0 }
        set { flags = newValue ? flags | 2 : flags & ~2 }
    }
    /// The input the form makes of it.
    var input: Int? {
        get { inputIndex >= 0 ? Int(inputIndex) : nil }
        set { inputIndex = newValue.map(Int32.init) ?? -1 }
    }
}
