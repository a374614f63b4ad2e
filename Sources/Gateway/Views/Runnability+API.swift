import JSONValue
import Workflows

// Whether a workflow can run here, on the wire: `runnable`, `issues` and `models` in a workflow's
// description, the entries of a refusing 422, and a run's `models`.

extension Runnability {
    /// `{"runnable": true|false|null, "issues": [...], "models": [...]}`.
    public var json: JSONValue {
        [
            "runnable": runnable.map { .bool($0) } ?? .null, "issues": .array(issues.map(\.json)),
            "models": .array(resolutions.map(\.json)),
        ]
    }
}

extension RunnabilityIssue {
    public var json: JSONValue {
        var fields: JSONObject = [
            "kind": .string(kind.rawValue), "node": .string(nodeID), "field": field.map { .string($0) } ?? .null,
            "system_name": systemName.map { .string($0) } ?? .null, "message": .string(message),
        ]
        if let nodeType { fields["node_type"] = .string(nodeType) }
        if kind == .unresolvedModel {
            fields["candidates"] = .array(candidates.map { ["name": .string($0.name), "key": .string($0.key)] })
        }
        return .object(fields)
    }
}

extension ModelResolution {
    public var json: JSONValue {
        [
            "node": .string(reference.nodeID), "field": .string(reference.field),
            "system_name": .string(reference.systemName),
            "stored": reference.stored, "resolved": resolved?.identifier ?? .null,
            "resolved_by": method.map { .string($0.rawValue) } ?? .null,
            "message": message.map { .string($0) } ?? .null,
        ]
    }
}
