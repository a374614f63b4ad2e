import JSONValue

/// An edge of a workflow definition, as tape positions: its ends are node positions (found
/// through the node ids' index, no id string built), and its ids and handles are copied into the
/// graph as the definition writes them.
struct WorkflowEdge: Sendable {
    /// What makes two edges the same connection (an editor can hold duplicates: the graph takes
    /// one): node positions, and handles and type by their interned text.
    struct Identity: Hashable {
        let source: NodeIndex
        let sourceHandle: Int
        let target: NodeIndex
        let targetHandle: Int
        let type: Int
    }

    /// Tape positions of the `source` and `target` node ids.
    let source: Int
    let target: Int
    /// Tape positions of the handles (field names) when they are non-empty strings.
    let sourceHandle: Int?
    let targetHandle: Int?
    /// Tape position of `type` when it is neither missing nor `default`.
    let type: Int?
    /// The editor's stand-in edge between collapsed nodes (`type: collapsed`): feeds nothing.
    let isCollapsed: Bool
    /// Its ends in the workflow's node list (nil: no such node).
    let sourceNode: NodeIndex?
    let targetNode: NodeIndex?

    init?(at index: Int, in document: JSONDocument, nodes: JSONStringIndex) {
        var source: Int?, target: Int?, sourceHandle: Int?, targetHandle: Int?, type: Int?
        document.forEachMember(of: index, named: ["source", "target", "sourceHandle", "targetHandle", "type"]) {
            key, value in
            let string = document.kind(at: value) == .string ? value : nil
            switch key {
            case 0: source = string
            case 1: target = string
            case 2: sourceHandle = string
            case 3: targetHandle = string
            default: type = string
            }
        }
        guard let source, let target else { return nil }
        self.source = source
        self.target = target
        let nonEmpty = { (handle: Int) in document.isEmptyString(at: handle) ? nil : handle }
        self.sourceHandle = sourceHandle.flatMap(nonEmpty)
        self.targetHandle = targetHandle.flatMap(nonEmpty)
        self.type = type.flatMap { document.string(at: $0, equals: "default") ? nil : $0 }
        isCollapsed = type.map { document.string(at: $0, equals: "collapsed") } ?? false
        sourceNode = nodes.value(forStringAt: source).map(NodeIndex.init)
        targetNode = nodes.value(forStringAt: target).map(NodeIndex.init)
    }
}

/// An edge the graph sends: between two graph nodes, both handles named. Tape positions of the
/// ids and handles (copied into the graph as the definition writes them) and of the type.
struct GraphEdge: Sendable {
    let source: Int
    let sourceHandle: Int
    let target: Int
    let targetHandle: Int
    let type: Int?
    let sourceNode: NodeIndex
    let targetNode: NodeIndex
}
