import JSONValue
import Testing
import Workflows

@testable import Gateway

/// The wire shape of the engine's values, kept in Gateway (`Views/`): snake_case names, one
/// place to change them.
@Suite("API views")
struct APIViewTests {
    let tiny = InstalledModel(key: "k-tiny", hash: "h", name: "tiny-sd15", base: "sd-1", type: "main")

    @Test func runnabilityIsDescribedWithSnakeCaseKeys() {
        let reference = ModelReference(
            nodeID: "m", field: "model", stored: ["key": "k-old", "name": "tiny-sd15", "base": "sd-1", "type": "main"])
        let runnability = Runnability(
            issues: [
                RunnabilityIssue(kind: .unknownNodeType, nodeID: "x", nodeType: "no_such_node", message: "unknown"),
                RunnabilityIssue(
                    kind: .unresolvedModel, nodeID: "m", field: "model", message: "missing", candidates: [tiny]),
            ],
            resolutions: [ModelResolution(reference: reference, resolved: tiny, method: .name, message: "used tiny")],
            modelsChecked: true)
        let json = runnability.json
        #expect(json.objectValue?.keys.sorted() == ["issues", "models", "runnable"])
        #expect(json["runnable"] == false)
        #expect(
            json["issues"]?[0]?.objectValue?.keys.sorted() == [
                "field", "kind", "message", "node", "node_type", "system_name",
            ])
        #expect(json["issues"]?[1]?["candidates"] == [["name": "tiny-sd15", "key": "k-tiny"]])
        #expect(json["issues"]?[1]?["system_name"] == "m.model")
        #expect(
            json["models"]?[0]?.objectValue?.keys.sorted() == [
                "field", "message", "node", "resolved", "resolved_by", "stored", "system_name",
            ])
        #expect(json["models"]?[0]?["resolved_by"] == "name")
        #expect(json["models"]?[0]?["resolved"] == tiny.identifier)
    }

    @Test func inputErrorsAndDriftUseTheAPIsNames() {
        #expect(
            InputError(key: "Width", index: 0, systemName: "b.width", message: "too small").json
                == ["input": "Width", "index": 0, "system_name": "b.width", "message": "too small"])
    }
}
