import JSONValue

/// An edge of a workflow definition.
struct WorkflowEdge: Sendable, Hashable {
    let source: String
    let sourceHandle: String
    let target: String
    let targetHandle: String
    /// `default`, or `collapsed` for the editor's stand-in edges between collapsed nodes.
    let type: String

    init?(_ json: JSONValue) {
        guard let source = json["source"]?.stringValue, let target = json["target"]?.stringValue else { return nil }
        self.source = source
        self.target = target
        sourceHandle = json["sourceHandle"]?.stringValue ?? ""
        targetHandle = json["targetHandle"]?.stringValue ?? ""
        type = json["type"]?.stringValue ?? "default"
    }
}
