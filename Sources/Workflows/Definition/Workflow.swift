import JSONValue

/// A workflow as the GUI exports it or keeps it in its library, read against InvokeAI's
/// invocation schemas: its form inputs (by index, system name, label), its outputs, and what is
/// odd about it. Pure: the definition is never changed.
public struct Workflow: Sendable {
    public let name: String
    public let description: String
    /// The definition as it was read (its text and tape): embedded in every batch byte for byte.
    public let document: JSONDocument
    public let inputs: [WorkflowInput]
    public let outputs: [WorkflowOutput]
    public let warnings: [WorkflowWarning]
    /// What stops the workflow from running on this InvokeAI whatever a request gives: unknown
    /// node types, generators the graph needs, required fields nothing fills. Stored models are
    /// checked against the installed ones by `runnability(installed:allowAny:given:)`.
    public let staticIssues: [RunnabilityIssue]
    /// A hash of the ordered input list (system names and types): it changes exactly when
    /// indices would mean other fields.
    public let fingerprint: String

    let nodes: NodeTable<WorkflowNode>
    /// Every edge with both ends named (batch nodes' lists follow them, graph edges or not).
    let edges: [WorkflowEdge]
    let repeatedIDs: RepeatedIDs
    /// The graph's nodes (executable ones) and edges (between them, once each).
    let graphNodes: [GraphNode]
    let graphEdges: [GraphEdge]
    /// What the workflow does with each template field: fed by a graph edge, an input.
    let fieldUses: FieldTable<FieldUse>
    /// Model fields of graph nodes whose stored identifier the graph sends, in node order.
    let storedModels: [StoredModel]

    public var definition: JSONValue { document.root.value }

    public static func parse(_ document: JSONDocument, schemas: InvocationSchemaTable) throws(WorkflowParseError)
        -> Workflow
    {
        guard document.kind(at: 0) == .object else { throw WorkflowParseError(message: "a workflow is a JSON object") }
        guard let nodes = document.member("nodes", of: 0), document.kind(at: nodes) == .array else {
            throw WorkflowParseError(message: "no \"nodes\" list: not a workflow")
        }
        return Workflow(document, nodes: nodes, schemas: schemas)
    }

    public static func parse(_ json: JSONValue, schemas: InvocationSchemaTable) throws(WorkflowParseError) -> Workflow {
        try parse(JSONDocument(json), schemas: schemas)
    }

    private init(_ document: JSONDocument, nodes nodeList: Int, schemas: InvocationSchemaTable) {
        var reader = WorkflowReader(document, schemas: schemas, nodeList: nodeList)
        reader.readNodes(nodeList)
        reader.readEdges()
        reader.checkGenerators()
        reader.selectGraphEdges()
        reader.collectInputs(WorkflowForm.fields(of: document))
        reader.checkRequiredFields()
        let graphNodes = reader.graphNodes()

        self.document = document
        name = document.string("name", of: 0) ?? ""
        description = document.string("description", of: 0) ?? ""
        inputs = reader.inputs
        outputs = reader.outputs(of: graphNodes)
        warnings = reader.warnings
        staticIssues = reader.issues
        fingerprint = Self.fingerprint(of: reader.inputs)
        nodes = reader.nodes
        edges = reader.edges
        repeatedIDs = reader.repeatedIDs
        self.graphNodes = graphNodes
        graphEdges = reader.graphEdges
        fieldUses = reader.fieldUses
        storedModels = reader.storedModels(of: graphNodes)
    }

    /// Two 64-bit FNV-1a hashes, hex, of each input's `<systemName>:<type>`, one per line:
    /// stable across processes and platforms.
    static func fingerprint(of inputs: [WorkflowInput]) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x84222325_cbf29ce4
        func add(_ text: String) {
            var text = text
            text.withUTF8 { bytes in
                for byte in bytes {
                    a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
                    b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
                }
            }
        }
        for i in inputs.indices {
            if i > 0 { add("\n") }
            add(inputs[i].systemName)
            add(":")
            add(inputs[i].type)
        }
        let hex = { (v: UInt64) -> String in
            let s = String(v, radix: 16); return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex(a) + hex(b)
    }
}

/// The JSON is not a workflow at all (problems inside one become warnings instead).
public struct WorkflowParseError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Something odd about a workflow that does not stop it from being listed (a stale reference,
/// an unknown node type, a required field with no value): named so a person can fix it.
public struct WorkflowWarning: Sendable, Equatable {
    public let nodeID: String?
    public let field: String?
    public let message: String

    public init(nodeID: String?, field: String?, message: String) {
        self.nodeID = nodeID
        self.field = field
        self.message = message
    }
}
