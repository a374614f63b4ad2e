/// What a key may do. `admin` includes the other two; `read` and `run` are independent.
public enum Scope: String, Sendable, Codable, CaseIterable, Comparable {
    /// The catalog, the caller's own runs, images and events.
    case read
    /// Submit runs, cancel the caller's own, upload images.
    case run
    /// Workflow definitions, everyone's runs, boards, the queue, metrics.
    case admin

    public static func < (a: Scope, b: Scope) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// `read,run` → [.read, .run]; the error names the first word that is not a scope.
    public static func parseList(_ text: String) -> Result<Set<Scope>, ScopeListError> {
        var scopes = Set<Scope>()
        for word in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !word.isEmpty {
            guard let scope = Scope(rawValue: word.lowercased()) else { return .failure(ScopeListError(word: word)) }
            scopes.insert(scope)
        }
        return scopes.isEmpty ? .failure(ScopeListError(word: "")) : .success(scopes)
    }
}

public struct ScopeListError: Error, CustomStringConvertible {
    public let word: String
    public var description: String {
        word.isEmpty
            ? "no scope given; scopes are read, run and admin"
            : "unknown scope '\(word)'; scopes are read, run and admin"
    }
}
