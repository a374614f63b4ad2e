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

extension InstalledModel {
    /// The installed model an identifier means: the one with its key; else the only one with its
    /// name, base and type (the same model installed again gets a new key, so a workflow made on
    /// another machine names it by a key this one never had); else, when `allowAny`, the first of
    /// its base and type by name then key. `bases` and `types` (the field's filters) stand in for
    /// a base or type the identifier does not give.
    static func match(
        _ identifier: JSONValue, in installed: [InstalledModel], bases: [String], types: [String], allowAny: Bool
    ) -> ModelMatch {
        func text(_ name: String) -> String? { identifier[name]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
        let key = text("key"), name = text("name")
        if let key, let found = installed.first(where: { $0.key == key }) { return .found(found, .key) }
        let wantedBases = text("base").map { [$0] } ?? bases, wantedTypes = text("type").map { [$0] } ?? types
        let candidates =
            installed
            .filter {
                (wantedBases.isEmpty || wantedBases.contains($0.base))
                    && (wantedTypes.isEmpty || wantedTypes.contains($0.type))
            }
            .sorted { ($0.name, $0.key) < ($1.name, $1.key) }
        let named = name.map { name in candidates.filter { $0.name == name } } ?? []
        if named.count == 1 { return .found(named[0], .name) }
        if allowAny, let first = named.first ?? candidates.first { return .found(first, .any) }

        let kind = [wantedBases.joined(separator: "/"), wantedTypes.joined(separator: "/")].filter { !$0.isEmpty }
            .joined(separator: " ")
        let models = kind.isEmpty ? "models" : "\(kind) models"
        var reason: String
        switch (identifier.objectValue, name, key) {
        case (nil, _, _): reason = "\(identifier.compactJSON) is not a model identifier"
        case (_, let name?, let key?): reason = "model '\(name)' (key \(key)) is not installed"
        case (_, let name?, nil): reason = "model '\(name)' has no key"
        case (_, nil, let key?): reason = "no installed model has key '\(key)'"
        case (_, nil, nil): reason = "the model identifier has neither key nor name"
        }
        if let name, named.count > 1 {
            reason += ", and \(named.count) installed \(models) are named '\(name)': choose one by key"
        }
        if candidates.isEmpty {
            reason += "; no installed model is \(kind.isEmpty ? "available" : kind)"
        } else {
            let limit = RunnabilityIssue.candidateLimit
            let listed = candidates.prefix(limit).map(\.shortDescription).joined(separator: ", ")
            reason +=
                "; installed \(models): \(listed)\(candidates.count > limit ? " and \(candidates.count - limit) more" : "")"
        }
        return .none(reason: reason, candidates: candidates)
    }
}

/// What a model identifier (stored in a workflow or given by a caller) found among the installed
/// models, or why it found none.
enum ModelMatch: Sendable, Equatable {
    case found(InstalledModel, ModelResolution.Method)
    /// `reason` names the identifier and what was looked for; `candidates` are the installed
    /// models of its base and type, by name then key.
    case none(reason: String, candidates: [InstalledModel])
}
