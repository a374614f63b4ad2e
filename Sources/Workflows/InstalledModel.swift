import JSONValue

/// A model InvokeAI has installed (an entry of `GET /api/v2/models/`).
public struct InstalledModel: Sendable, Equatable {
    public let key: String
    public let hash: String
    public let name: String
    public let base: String
    public let type: String

    public init(key: String, hash: String, name: String, base: String, type: String) {
        self.key = key
        self.hash = hash
        self.name = name
        self.base = base
        self.type = type
    }

    public init(json: JSONValue) {
        self.init(
            key: json["key"]?.stringValue ?? "", hash: json["hash"]?.stringValue ?? "",
            name: json["name"]?.stringValue ?? "",
            base: json["base"]?.stringValue ?? "", type: json["type"]?.stringValue ?? "")
    }

    /// The identifier a graph's model field takes.
    public var identifier: JSONValue {
        [
            "key": .string(key), "hash": .string(hash), "name": .string(name), "base": .string(base),
            "type": .string(type),
        ]
    }

    /// `'name' (key)`, as messages name a model.
    var shortDescription: String { "'\(name)' (\(key))" }
}
