import JSONValue

/// An edge of a workflow definition. A class: read-only, and passed around without copying
/// its strings.
final class WorkflowEdge: Sendable {
    /// What makes two edges the same connection (an editor can hold duplicates: the graph takes one).
    struct Identity: Hashable {
        let source: Int?
        let sourceHandle: String
        let target: Int?
        let targetHandle: String
        let type: String
    }

    let source: String
    let sourceHandle: String
    let target: String
    let targetHandle: String
    /// `default`, or `collapsed` for the editor's stand-in edges between collapsed nodes.
    let type: String
    /// Positions of its ends in the workflow's node list (nil: no such node).
    let sourceNode: Int?
    let targetNode: Int?

    init?(at index: Int, in document: JSONDocument, nodes: [String: Int]) {
        guard let source = document.string("source", of: index), let target = document.string("target", of: index) else { return nil }
        self.source = source
        self.target = target
        sourceHandle = document.string("sourceHandle", of: index) ?? ""
        targetHandle = document.string("targetHandle", of: index) ?? ""
        type = document.string("type", of: index) ?? "default"
        sourceNode = nodes[source]
        targetNode = nodes[target]
    }

    /// Ends by node position and handles by name: hashing it costs no node id.
    var identity: Identity { Identity(source: sourceNode, sourceHandle: sourceHandle, target: targetNode, targetHandle: targetHandle, type: type) }
}
