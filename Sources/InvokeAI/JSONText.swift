import JSONValue

/// Compact JSON text of a `JSONValue` (object keys sorted, so output is stable).
public enum JSONText {
    public static func encode(_ value: JSONValue) -> String { value.compactJSON }

    public static func data(_ value: JSONValue) -> [UInt8] { value.compactJSONBytes }
}
