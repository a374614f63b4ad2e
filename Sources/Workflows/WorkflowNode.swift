import JSONValue

/// A node of a workflow definition, as the engine needs it.
struct WorkflowNode: Sendable {
    struct Input: Sendable { var label: String; var value: JSONValue? }

    let id: String
    /// `invocation`, `notes`, ...
    let kind: String
    /// The invocation type (`img_resize`), for invocation nodes.
    let type: String
    let label: String
    let inputs: [String: Input]
    let isIntermediate: Bool
    let useCache: Bool
    let template: InvocationTemplate?

    var isInvocation: Bool { kind == "invocation" }
    var isExecutable: Bool { isInvocation && template != nil && !InvocationTemplate.isBatch(type) && !InvocationTemplate.isGenerator(type) }
    var isBatch: Bool { isInvocation && InvocationTemplate.isBatch(type) }

    init?(_ json: JSONValue, schemas: InvocationSchemaTable) {
        guard let data = json["data"], let id = json["id"]?.stringValue ?? data["id"]?.stringValue else { return nil }
        self.id = id
        kind = json["type"]?.stringValue ?? "invocation"
        type = data["type"]?.stringValue ?? ""
        label = data["label"]?.stringValue ?? ""
        var inputs: [String: Input] = [:]
        for (name, input) in data["inputs"]?.objectValue ?? [:] {
            let value = input["value"]
            inputs[name] = Input(label: input["label"]?.stringValue ?? "", value: value.flatMap { $0.isNull ? nil : $0 })
        }
        self.inputs = inputs
        isIntermediate = data["isIntermediate"]?.boolValue ?? false
        useCache = data["useCache"]?.boolValue ?? true
        template = kind == "invocation" ? schemas[type] : nil
    }
}
