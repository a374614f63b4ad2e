import Foundation
import JSONValue
import Workflows

/// bench/workflows' Swift half: `workflows-bench OPENAPI.json WORKFLOW.json ITERATIONS` reads the
/// workflow ITERATIONS times the way the gateway does for a run (decode the JSON, parse the
/// workflow and list its inputs, validate, build the enqueue body) and prints the mean time per
/// round in microseconds, and per step, after a few untimed warm-up rounds. Decoding checks the whole text into a `JSONDocument`,
/// as the catalog does; building writes the request body's bytes, ready to post.
@main
enum WorkflowsBench {
    static func main() throws {
        let args = CommandLine.arguments
        guard args.count == 4, let iterations = Int(args[3]), iterations > 0 else {
            FileHandle.standardError.write(Data("usage: workflows-bench OPENAPI.json WORKFLOW.json ITERATIONS\n".utf8))
            exit(2)
        }
        let schemas = InvocationSchemaTable(
            openAPI: try FastJSONParser.parse(Data(contentsOf: URL(fileURLWithPath: args[1]))))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: args[2]))
        var decode = 0.0, parse = 0.0, validate = 0.0, build = 0.0
        var inputs = 0
        var nodes = 0
        let clock = ContinuousClock()
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        for _ in 0..<min(50, iterations) {
            let workflow = try Workflow.parse(JSONDocument(parsing: bytes), schemas: schemas)
            if case .success(let values) = workflow.validate([:], models: []) {
                _ = workflow.buildBatch(values, origin: "bench", destination: "bench")
            }
        }
        for _ in 0..<iterations {
            var document: JSONDocument!
            decode += seconds(clock.measure { document = try! JSONDocument(parsing: bytes) })
            var workflow: Workflow!
            parse += seconds(clock.measure { workflow = try! Workflow.parse(document, schemas: schemas) })
            var resolved = ResolvedInputs()
            validate += seconds(
                clock.measure {
                    if case .success(let values) = workflow.validate([:], models: []) { resolved = values }
                })
            var body: EnqueueBatchBody!
            build += seconds(
                clock.measure { body = workflow.buildBatch(resolved, origin: "bench", destination: "bench") })
            inputs = workflow.inputs.count
            if nodes == 0 { nodes = body.json["batch"]?["graph"]?["nodes"]?.objectValue?.count ?? 0 }
        }
        let n = Double(iterations)
        let total = (decode + parse + validate + build) / n * 1e6
        print(
            String(
                format:
                    "SWIFT %.1f us/round (decode %.1f, parse+inputs %.1f, validate %.1f, build %.1f) inputs %d graph_nodes %d",
                total, decode / n * 1e6, parse / n * 1e6, validate / n * 1e6, build / n * 1e6, inputs, nodes))
    }
}
