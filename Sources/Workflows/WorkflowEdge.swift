import JSONValue

/// An edge of a workflow definition.
struct WorkflowEdge: Sendable, Hashable {
    let source: String
    let sourceHandle: String
    let target: String
    let targetHandle: String
    /// `default`, or `collapsed` for the editor's stand-in edges between collapsed nodes.
    let type: String

    init?(at index: Int, in document: JSONDocument) {
        guard let source = document.string("source", of: index), let target = document.string("target", of: index) else { return nil }
        self.source = source
        self.target = target
        sourceHandle = document.string("sourceHandle", of: index) ?? ""
        targetHandle = document.string("targetHandle", of: index) ?? ""
        type = document.string("type", of: index) ?? "default"
    }
}
