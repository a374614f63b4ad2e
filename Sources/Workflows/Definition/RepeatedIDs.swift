/// Nodes that repeat an earlier node's id (the GUI never makes them; a hand-edited file can).
/// Edges and the form name a node by id and reach the first with it, but a run's value is meant
/// for the id and field name: it is kept under the first node's field of that name (`canonical`)
/// and written to each node with the id that has the field (`sharing`). Empty for nearly every
/// workflow, and then costs nothing.
struct RepeatedIDs: Sendable {
    /// Each repeating node's first node with its id.
    private var firstNode: [NodeIndex: NodeIndex] = [:]
    /// Each first node's repeats, in order.
    private var repeats: [NodeIndex: [NodeIndex]] = [:]

    var isEmpty: Bool { firstNode.isEmpty }

    mutating func add(_ node: NodeIndex, repeating first: NodeIndex) {
        firstNode[node] = first
        repeats[first, default: []].append(node)
    }

    /// The field a value for `field` is kept under: the same-named field of the first node with
    /// its id that has one.
    func canonical(_ field: NodeField, in nodes: NodeTable<WorkflowNode>) -> NodeField {
        guard let first = firstNode[field.node] else { return field }
        for node in [first] + (repeats[first] ?? []) {
            if let ordinal = Self.ordinal(of: field, in: nodes, at: node) {
                return NodeField(node: node, ordinal: ordinal)
            }
        }
        return field
    }

    /// The same-named field of every other node with `field`'s id.
    func sharing(_ field: NodeField, in nodes: NodeTable<WorkflowNode>) -> [NodeField] {
        let first = firstNode[field.node] ?? field.node
        guard let others = repeats[first] else { return [] }
        return ([first] + others).compactMap { node in
            guard node != field.node, let ordinal = Self.ordinal(of: field, in: nodes, at: node) else { return nil }
            return NodeField(node: node, ordinal: ordinal)
        }
    }

    /// The ordinal at `node` of the field named as `field` is.
    private static func ordinal(of field: NodeField, in nodes: NodeTable<WorkflowNode>, at node: NodeIndex) -> Int? {
        guard let name = nodes[field.node].template?.orderedInputs[field.ordinal].name else { return nil }
        return nodes[node].template?.ordinal(of: name)
    }
}
