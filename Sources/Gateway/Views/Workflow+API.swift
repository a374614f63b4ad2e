import JSONValue
import Workflows

// How workflows look on the wire (`GET /v1/workflows[/{name}]`): the engine's values stay free
// of any wire format; the API's field names live here, in one place.

extension Workflow {
    public var summaryJSON: JSONValue {
        [
            "title": .string(name), "description": .string(description), "input_count": .int(inputs.count),
            "fingerprint": .string(fingerprint), "warning_count": .int(warnings.count),
        ]
    }

    public var detailJSON: JSONValue {
        var fields = summaryJSON.objectValue ?? [:]
        fields["inputs"] = .array(inputs.map(\.json))
        fields["outputs"] = .array(outputs.map(\.json))
        fields["warnings"] = .array(warnings.map(\.json))
        return .object(fields)
    }
}

extension WorkflowInput {
    /// `kind` is what a program switches on; `type` is display text (`list of integer`).
    public var json: JSONValue {
        [
            "index": .int(index), "system_name": .string(systemName), "label": .string(label),
            "field": .string(fieldName),
            "node": ["id": .string(nodeID), "type": .string(nodeType), "label": .string(nodeLabel)],
            "type": .string(type), "kind": template.map { .string($0.kind.machineName) } ?? "other",
            "item_kind": template?.kind.elementKind.map { .string($0.machineName) } ?? .null,
            "schema": schema, "required": .bool(required), "value": value ?? .null,
        ]
    }
}

extension WorkflowOutput {
    public var json: JSONValue {
        [
            "node": .string(nodeID), "node_type": .string(nodeType), "label": .string(label),
            "board_input": boardInputIndex.map { .int($0) } ?? .null,
        ]
    }
}

extension WorkflowWarning {
    public var json: JSONValue {
        [
            "node": nodeID.map { .string($0) } ?? .null, "field": field.map { .string($0) } ?? .null,
            "message": .string(message),
        ]
    }
}

extension DriftReport {
    /// The `drift` of a 412 answer to `If-Match`.
    public var json: JSONValue {
        [
            "unchanged": .array(unchanged.map { .string($0) }),
            "moved": .array(
                moved.map { ["system_name": .string($0.systemName), "from": .int($0.from), "to": .int($0.to)] }),
            "missing": .array(missing.map { .string($0) }), "added": .array(added.map { .string($0) }),
            "compatible": .bool(isCompatible),
        ]
    }
}

extension InputError {
    /// One entry of a 422's `errors`.
    public var json: JSONValue {
        [
            "input": .string(key), "index": index.map { .int($0) } ?? .null,
            "system_name": systemName.map { .string($0) } ?? .null, "message": .string(message),
        ]
    }
}
